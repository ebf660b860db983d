"""Resolving review flags: accept changes the step or discharges through the usual services, dismiss
needs a reason, everything is audited; the API and the browser call the same service."""

import pytest
from django.core.exceptions import ValidationError
from django.template.loader import render_to_string
from django.test import RequestFactory
from django.urls import reverse

from common.exceptions import Conflict
from common.models import AuditEvent
from referrals.models import Referral
from stepped_care import services
from stepped_care.models import FlagStatus, ReviewFlag, StepAssignment, StepSource

from .review_helpers import not_improving, referral_at_step, session

pytestmark = pytest.mark.django_db


def flag_for(referral, rule, recommendation="review", severity="amber"):
    return ReviewFlag.objects.create(
        referral=referral,
        rule=rule,
        recommendation=recommendation,
        severity=severity,
        explanation=f"{rule} explained",
        evidence={"since": "2026-01-05"},
    )


@pytest.fixture
def step_up_flag(pwp):
    referral = not_improving(pwp)
    services.review_referral(referral.pk)
    return ReviewFlag.objects.get(referral=referral, rule="not_improving", status=FlagStatus.OPEN)


def test_accepting_a_step_up_changes_the_step_with_the_flag_as_source(step_up_flag, pwp):
    flag = services.resolve_flag(flag=step_up_flag, action="accept", by=pwp, reason="Agreed in CMS")
    referral = Referral.objects.get(pk=flag.referral_id)
    assert referral.current_step == 3
    step = StepAssignment.objects.get(referral=referral, ended_on__isnull=True)
    assert (step.step, step.source, step.flag_id, step.reason) == (3, StepSource.REVIEW_FLAG, flag.pk, "Agreed in CMS")
    flag.refresh_from_db()
    assert (flag.status, flag.resolved_by, flag.resolution_note) == (FlagStatus.ACCEPTED, pwp, "Agreed in CMS")
    event = AuditEvent.objects.get(action="flag.accept", object_id=str(flag.pk))
    assert event.actor == pwp and event.changes["to_step"] == 3 and event.changes["from_step"] == 2
    assert AuditEvent.objects.filter(action="step.change", changes__source="review_flag").exists()


def test_accepting_a_step_up_without_a_reason_uses_the_explanation(step_up_flag, pwp):
    services.resolve_flag(flag=step_up_flag, action="accept", by=pwp)
    step = StepAssignment.objects.get(referral=step_up_flag.referral, ended_on__isnull=True)
    assert step.reason.startswith("Consider stepping up: 4 attended treatment contacts")


def test_accepting_a_step_down_and_choosing_the_step(pwp):
    referral = referral_at_step(pwp, step=4)
    flag = flag_for(referral, "recovered", "step_down", "green")
    services.resolve_flag(flag=flag, action="accept", by=pwp, step=2, reason="Recovered; low intensity relapse work")
    referral.refresh_from_db()
    assert referral.current_step == 2


@pytest.mark.parametrize(
    ("step", "recommendation", "message"), [(5, "step_up", "no step 6"), (1, "step_down", "no step 0")]
)
def test_there_is_no_step_beyond_the_ends(pwp, step, recommendation, message):
    referral = referral_at_step(pwp, step=step)
    flag = flag_for(referral, "not_improving", recommendation)
    with pytest.raises(ValidationError) as err:
        services.resolve_flag(flag=flag, action="accept", by=pwp)
    assert message in err.value.message_dict["step"][0]
    flag.refresh_from_db()
    assert flag.status == FlagStatus.OPEN  # nothing half-saved


def test_accepting_a_step_out_discharges_with_the_end_code(pwp):
    referral = referral_at_step(pwp)
    session(referral, pwp, 10, 5, 4)
    flag = flag_for(referral, "recovered", "step_out", "green")
    other = flag_for(referral, "review_overdue")
    with pytest.raises(ValidationError) as err:
        services.resolve_flag(flag=flag, action="accept", by=pwp)
    assert "end code" in err.value.message_dict["end_code"][0]
    services.resolve_flag(flag=flag, action="accept", by=pwp, end_code="46", reason="Completed")
    referral.refresh_from_db()
    assert (referral.status, referral.end_code) == ("discharged", "46")
    flag.refresh_from_db()
    other.refresh_from_db()
    assert flag.status == FlagStatus.ACCEPTED
    assert other.status == FlagStatus.CLEARED
    assert other.resolution_note == "Referral discharged (mutually agreed completion of treatment)"


def test_dismissing_needs_a_reason(step_up_flag, pwp):
    with pytest.raises(ValidationError) as err:
        services.resolve_flag(flag=step_up_flag, action="dismiss", by=pwp, reason="  ")
    assert err.value.message_dict == {"reason": ["Say why the flag is dismissed."]}
    services.resolve_flag(flag=step_up_flag, action="dismiss", by=pwp, reason="Improving on WSAS; review at 6")
    step_up_flag.refresh_from_db()
    assert step_up_flag.status == FlagStatus.DISMISSED
    assert Referral.objects.get(pk=step_up_flag.referral_id).current_step == 2
    assert AuditEvent.objects.get(action="flag.dismiss").changes["reason"] == "Improving on WSAS; review at 6"


def test_accepting_a_risk_flag_records_the_review(pwp, referral):
    flag = flag_for(referral, "risk", "risk", "red")
    services.resolve_flag(flag=flag, action="accept", by=pwp, reason="Risk assessed, safety plan")
    flag.refresh_from_db()
    assert flag.status == FlagStatus.ACCEPTED


def test_a_flag_cannot_be_resolved_twice(step_up_flag, pwp):
    services.resolve_flag(flag=step_up_flag, action="dismiss", by=pwp, reason="Seen")
    with pytest.raises(Conflict, match="already dismissed"):
        services.resolve_flag(flag=step_up_flag, action="accept", by=pwp)


def test_unknown_action_is_named(step_up_flag, pwp):
    with pytest.raises(ValidationError) as err:
        services.resolve_flag(flag=step_up_flag, action="maybe", by=pwp)
    assert "action" in err.value.message_dict


# --- API ------------------------------------------------------------------------------------------


def test_api_lists_flags_filtered_by_referral_and_status(api, pwp, step_up_flag, outsider):
    other = referral_at_step(pwp)
    flag_for(other, "review_overdue")
    api.force_authenticate(pwp)
    data = api.get("/api/v1/flags/", {"referral": str(step_up_flag.referral_id), "status": "open"}).json()
    assert [f["id"] for f in data["results"]] == [str(step_up_flag.pk)]
    row = data["results"][0]
    assert row["rule_display"] == "Not improving" and row["recommendation_display"] == "Consider stepping up"
    assert row["evidence"]["attended_treatment_contacts"] == 4
    assert {"label": "Attended treatment contacts at this step", "value": "4"} in row["evidence_lines"]
    assert api.get("/api/v1/flags/", {"status": "accepted"}).json()["count"] == 0
    assert api.get("/api/v1/flags/", {"status": "nonsense"}).status_code == 400

    api.force_authenticate(outsider)
    assert api.get("/api/v1/flags/").json()["count"] == 0
    assert api.get(f"/api/v1/flags/{step_up_flag.pk}/").status_code == 404
    assert api.post(f"/api/v1/flags/{step_up_flag.pk}/resolve/", {"action": "dismiss"}).status_code == 404


def test_api_resolve(api, pwp, step_up_flag, manager):
    url = f"/api/v1/flags/{step_up_flag.pk}/resolve/"
    api.force_authenticate(manager)  # sees the team's flags, but decisions are clinicians'
    assert api.get(f"/api/v1/flags/{step_up_flag.pk}/").status_code == 200
    assert api.post(url, {"action": "accept"}, format="json").status_code == 403

    api.force_authenticate(pwp)
    bad = api.post(url, {"action": "dismiss", "reason": ""}, format="json")
    assert bad.status_code == 400 and "reason" in bad.json()["errors"]
    assert api.post(url, {"action": "later"}, format="json").json()["errors"].keys() == {"action"}
    ok = api.post(url, {"action": "accept", "reason": "Agreed"}, format="json")
    assert ok.status_code == 200
    assert ok.json()["status"] == "accepted" and ok.json()["resolved_by"] == pwp.pk
    assert Referral.objects.get(pk=step_up_flag.referral_id).current_step == 3
    again = api.post(url, {"action": "accept"}, format="json")
    assert again.status_code == 409 and again.json()["code"] == "conflict"


def test_api_step_out_needs_an_end_code(api, pwp):
    referral = referral_at_step(pwp)
    flag = flag_for(referral, "disengaging", "step_out")
    api.force_authenticate(pwp)
    url = f"/api/v1/flags/{flag.pk}/resolve/"
    assert "end_code" in api.post(url, {"action": "accept"}, format="json").json()["errors"]
    assert api.post(url, {"action": "accept", "end_code": "99"}, format="json").status_code == 400
    not_seen = api.post(url, {"action": "accept", "end_code": "47"}, format="json")
    assert not_seen.status_code == 400 and "taken on for treatment" in str(not_seen.json())  # never seen
    assert api.post(url, {"action": "accept", "end_code": "50"}, format="json").status_code == 200
    assert Referral.objects.get(pk=referral.pk).end_code == "50"


# --- browser --------------------------------------------------------------------------------------


def test_resolve_from_the_referral_page(client, pwp, step_up_flag):
    client.force_login(pwp)
    url = reverse("resolve_flag", args=[step_up_flag.pk])
    page = client.get(url)
    assert page.status_code == 200
    assert b"Attended treatment contacts at this step" in page.content
    assert AuditEvent.objects.filter(action="flag.view", actor=pwp).exists()
    back = f"/referrals/{step_up_flag.referral_id}/"
    response = client.post(url, {"action": "dismiss", "reason": "", "next": back})
    assert response.status_code == 200
    assert "Say why the flag is dismissed." in response.content.decode()
    response = client.post(url, {"action": "accept", "reason": "Agreed", "next": back})
    assert response.status_code == 302 and response["Location"] == back
    assert Referral.objects.get(pk=step_up_flag.referral_id).current_step == 3
    # Resolving it again is refused with a message, not an error page.
    response = client.post(url, {"action": "accept", "next": back}, follow=True)
    assert "already accepted" in response.content.decode()


def test_resolve_refuses_unsafe_redirects_and_outsiders(client, pwp, step_up_flag, outsider, manager):
    client.force_login(pwp)
    url = reverse("resolve_flag", args=[step_up_flag.pk])
    response = client.post(url, {"action": "dismiss", "reason": "Seen", "next": "https://evil.example/"})
    assert response.status_code == 302 and not response["Location"].startswith("https://evil")
    client.force_login(outsider)
    assert client.get(url).status_code == 404
    assert client.post(url, {"action": "dismiss", "reason": "x"}).status_code == 404
    client.force_login(manager)
    assert client.post(url, {"action": "dismiss", "reason": "x"}).status_code == 403


@pytest.mark.parametrize("count", [1, 6])
def test_the_flags_partial_runs_one_query_whatever_the_number_of_flags(pwp, count, django_assert_num_queries):
    """One question to the rulebook (is this clinician on the case?) for all the flags; none per flag."""
    referral = referral_at_step(pwp)
    rules = ["risk", "deterioration", "not_improving", "recovered", "disengaging", "long_wait"][:count]
    for rule in rules:
        flag_for(referral, rule, "step_out" if rule == "disengaging" else "review")
    flags = list(ReviewFlag.objects.filter(referral=referral))
    referral = type(referral).objects.get(pk=referral.pk)  # as a page loads it: nothing asked of it yet
    request = RequestFactory().get("/referrals/x/")
    request.user = pwp
    with django_assert_num_queries(1):
        html = render_to_string(
            "components/flags.html", {"flags": flags, "referral": referral, "user": pwp}, request=request
        )
    assert html.count('name="action" value="accept"') == count
    assert ("Referral end code" in html) is ("disengaging" in rules)
