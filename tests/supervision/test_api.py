"""Supervision API: relationships, sessions with decisions, prepared lists, compliance."""

import pytest

from stepped_care.models import FlagStatus
from supervision.models import CaseDecision, SupervisionRelationship, SupervisionSession, SupervisionType

from .conftest import make_referral, open_flag, today

pytestmark = pytest.mark.django_db
BASE = "/api/v1/supervision"


def test_the_prepared_list(api, supervisor, pwp, outsider, colleague):
    referral = make_referral(pwp, family="Flagged")
    open_flag(referral, "risk", "risk", "red", "PHQ-9 item 9 scored 1")
    api.force_authenticate(supervisor)
    response = api.get(f"{BASE}/case-lists/{pwp.pk}/")
    assert response.status_code == 200
    data = response.json()
    assert data["supervisee"] == pwp.pk and len(data["rows"]) == 1
    row = data["rows"][0]
    assert row["referral"] == str(referral.pk) and row["step"] == 2
    assert row["reasons"][0]["kind"] == "risk" and "item 9 scored 1" in row["reasons"][0]["text"]
    assert row["phq9"]["direction"] == "none" and row["last_decision"] is None
    for stranger in (outsider, colleague):
        api.force_authenticate(stranger)
        assert api.get(f"{BASE}/case-lists/{pwp.pk}/").status_code == 404


def test_recording_a_session_with_a_step_up(api, supervisor, pwp):
    referral = make_referral(pwp)
    flag = open_flag(referral, "deterioration", "step_up", "red")
    api.force_authenticate(supervisor)
    response = api.post(
        f"{BASE}/sessions/",
        {
            "kind": "case_management",
            "date": today().isoformat(),
            "minutes": 60,
            "supervisor": supervisor.pk,
            "supervisees": [pwp.pk],
            "sign_off": True,
            "decisions": [
                {"referral": str(referral.pk), "decision": "step_up", "notes": "CBT", "version": referral.version}
            ],
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["signed_off"] is True and body["kind_display"] == "Case-management supervision"
    [decision] = body["decisions"]
    assert (
        decision["decision"] == "step_up" and decision["to_step"] == 3 and decision["flags_resolved"] == [str(flag.pk)]
    )
    flag.refresh_from_db()
    referral.refresh_from_db()
    assert flag.status == FlagStatus.ACCEPTED and referral.current_step == 3
    assert api.get(f"{BASE}/sessions/{body['id']}/").json()["decisions"][0]["id"] == decision["id"]
    assert api.get(f"{BASE}/decisions/?referral={referral.pk}").json()["count"] == 1


def test_bad_input_names_the_field_and_saves_nothing(api, supervisor, pwp):
    referral = make_referral(pwp)
    api.force_authenticate(supervisor)
    response = api.post(
        f"{BASE}/sessions/",
        {
            "kind": "case_management",
            "date": today().isoformat(),
            "minutes": 60,
            "supervisor": supervisor.pk,
            "supervisees": [pwp.pk],
            "decisions": [{"referral": str(referral.pk), "decision": "discharge"}],
        },
        format="json",
    )
    assert response.status_code == 400
    assert "end code" in response.json()["errors"]["decisions.0.end_code"][0]
    assert SupervisionSession.objects.count() == 0
    response = api.post(
        f"{BASE}/sessions/",
        {"kind": "case_management", "date": "2020-01-01", "minutes": 0, "supervisor": supervisor.pk, "supervisees": []},
        format="json",
    )
    assert response.status_code == 400 and {"minutes", "supervisees"} <= set(response.json()["errors"])


def test_a_stale_version_is_409(api, supervisor, pwp):
    referral = make_referral(pwp)
    api.force_authenticate(supervisor)
    response = api.post(
        f"{BASE}/sessions/",
        {
            "kind": "case_management",
            "date": today().isoformat(),
            "minutes": 60,
            "supervisor": supervisor.pk,
            "supervisees": [pwp.pk],
            "decisions": [{"referral": str(referral.pk), "decision": "step_up", "version": referral.version + 5}],
        },
        format="json",
    )
    assert response.status_code == 409
    assert SupervisionSession.objects.count() == 0


def test_sign_off_add_correct_and_entered_in_error(api, supervisor, pwp):
    referral = make_referral(pwp)
    late = make_referral(pwp, family="Late")
    api.force_authenticate(pwp)
    created = api.post(
        f"{BASE}/sessions/",
        {
            "kind": "case_management",
            "date": today().isoformat(),
            "minutes": 60,
            "supervisor": supervisor.pk,
            "supervisees": [pwp.pk],
            "decisions": [{"referral": str(referral.pk), "decision": "continue"}],
        },
        format="json",
    ).json()
    sid = created["id"]
    added = api.post(
        f"{BASE}/sessions/{sid}/decisions/",
        {"decisions": [{"referral": str(late.pk), "decision": "other", "notes": "Letter to GP"}]},
        format="json",
    )
    assert added.status_code == 201 and len(added.json()["decisions"]) == 2
    assert api.post(f"{BASE}/sessions/{sid}/sign-off/").status_code == 403
    api.force_authenticate(supervisor)
    assert api.post(f"{BASE}/sessions/{sid}/sign-off/").json()["signed_off"] is True
    assert api.post(f"{BASE}/sessions/{sid}/sign-off/").status_code == 400
    first = CaseDecision.objects.get(referral=referral)
    corrected = api.post(
        f"{BASE}/decisions/{first.pk}/correct/",
        {"reason": "We agreed a risk plan", "decision": "risk_plan"},
        format="json",
    )
    assert corrected.status_code == 201 and corrected.json()["corrects"] == str(first.pk)
    assert (
        api.post(
            f"{BASE}/decisions/{first.pk}/correct/", {"reason": "x", "decision": "continue"}, format="json"
        ).status_code
        == 400
    )
    gone = api.post(f"{BASE}/sessions/{sid}/entered-in-error/", {"reason": "Wrong date"}, format="json")
    assert gone.status_code == 200 and gone.json()["entered_in_error"] is True


def test_relationships(api, manager, supervisor, pwp, outsider):
    api.force_authenticate(manager)
    response = api.post(
        f"{BASE}/relationships/",
        {"supervisor": supervisor.pk, "supervisee": pwp.pk, "kind": "clinical_skills"},
        format="json",
    )
    assert response.status_code == 201 and response.json()["frequency_days"] == 14
    rid = response.json()["id"]
    assert api.get(f"{BASE}/relationships/?kind=clinical_skills").json()["count"] == 1
    assert api.post(f"{BASE}/relationships/{rid}/end/", {}, format="json").json()["ended_on"] == today().isoformat()
    api.force_authenticate(pwp)
    forbidden = api.post(
        f"{BASE}/relationships/",
        {"supervisor": supervisor.pk, "supervisee": pwp.pk, "kind": "professional"},
        format="json",
    )
    assert forbidden.status_code == 403
    api.force_authenticate(outsider)
    assert api.get(f"{BASE}/relationships/{rid}/").status_code == 404
    assert SupervisionRelationship.objects.filter(kind=SupervisionType.PROFESSIONAL).count() == 0


def test_compliance(api, supervisor, pwp, manager):
    api.force_authenticate(supervisor)
    api.post(
        f"{BASE}/sessions/",
        {
            "kind": "case_management",
            "date": today().isoformat(),
            "minutes": 60,
            "supervisor": supervisor.pk,
            "supervisees": [pwp.pk],
        },
        format="json",
    )
    rows = api.get(f"{BASE}/compliance/?weeks=1").json()
    mine = next(r for r in rows if r["staff_id"] == pwp.pk)
    assert mine["requirements"][0]["kind"] == "case_management" and mine["requirements"][0]["met"] is True
    api.force_authenticate(manager)
    assert any(r["staff_id"] == pwp.pk for r in api.get(f"{BASE}/compliance/").json())
    assert api.get(f"{BASE}/compliance/?weeks=0").status_code == 400


def test_anonymous_is_refused(api, pwp):
    assert api.get(f"{BASE}/sessions/").status_code in (401, 403)
    assert api.get(f"{BASE}/case-lists/{pwp.pk}/").status_code in (401, 403)


@pytest.mark.parametrize(
    "decision",
    [
        {"referral": "not-a-uuid", "decision": "continue"},
        {"referral": "00000000-0000-0000-0000-000000000000", "decision": "continue"},
        {"referral": None, "decision": "continue"},
        {"decision": "continue"},
        {"referral": "REF", "decision": "step_up", "to_step": 9},
        {"referral": "REF", "decision": "step_up", "to_step": "x"},
        {"referral": "REF", "decision": "discharge", "end_code": "99"},
        "just a string",
    ],
)
def test_malformed_decisions_are_400_not_500(api, supervisor, pwp, decision):
    referral = make_referral(pwp)
    if isinstance(decision, dict) and decision.get("referral") == "REF":
        decision["referral"] = str(referral.pk)
    api.force_authenticate(supervisor)
    response = api.post(
        f"{BASE}/sessions/",
        {
            "kind": "case_management",
            "date": today().isoformat(),
            "minutes": 60,
            "supervisor": supervisor.pk,
            "supervisees": [pwp.pk],
            "decisions": [decision],
        },
        format="json",
    )
    assert response.status_code == 400
    assert SupervisionSession.objects.count() == 0


@pytest.mark.parametrize("path", ["case-lists/abc/", "case-lists/999999/", "sessions/abc/", "decisions/1/"])
def test_unknown_ids_are_404(api, supervisor, path):
    api.force_authenticate(supervisor)
    assert api.get(f"{BASE}/{path}").status_code == 404
