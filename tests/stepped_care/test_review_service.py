"""The review engine against the real database: raising, updating and clearing flags, idempotent
re-runs, interrupted scans, a fixed number of queries, and the synchronous risk flag."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import IntegrityError, transaction

from common.models import AuditEvent
from referrals.services import mark_contact_in_error
from stepped_care import review, services
from stepped_care.models import FlagStatus, ReviewFlag
from stepped_care.services import discharge

from .review_helpers import not_improving, referral_at_step, session, today

pytestmark = pytest.mark.django_db


def flags(referral=None, status=FlagStatus.OPEN):
    qs = ReviewFlag.objects.filter(status=status)
    if referral is not None:
        qs = qs.filter(referral=referral)
    return {f.rule: f for f in qs}


def snapshot():
    return sorted(
        (str(f.referral_id), f.rule, f.status, f.severity, f.recommendation, f.episode, f.digest, f.explanation)
        for f in ReviewFlag.objects.all()
    )


def test_a_review_raises_an_explained_flag_once(pwp):
    referral = not_improving(pwp)
    outcome = services.review_referral(referral.pk)
    assert [f.rule for _, f in outcome.raised] == ["not_improving"]
    flag = flags(referral)["not_improving"]
    assert flag.recommendation == "step_up" and flag.severity == "amber"
    assert flag.evidence["attended_treatment_contacts"] == 4
    assert flag.evidence["measures"]["PHQ9"]["first"] == 15
    assert "4 attended treatment contacts since step 2 began" in flag.explanation
    event = AuditEvent.objects.get(action="flag.raise", object_id=str(flag.pk))
    assert event.actor is None and event.patient_id == referral.patient_id
    assert event.changes["rule"] == "not_improving"

    again = services.review_referral(referral.pk)
    assert again.changes == 0 and again.unchanged == 1
    assert ReviewFlag.objects.count() == 1


def test_only_one_open_flag_per_referral_and_rule_in_the_database(pwp):
    referral = not_improving(pwp)
    services.review_referral(referral.pk)
    with pytest.raises(IntegrityError), transaction.atomic():
        ReviewFlag.objects.create(referral=referral, rule="not_improving", recommendation="step_up", severity="amber")


def test_a_flag_whose_condition_cleared_closes_itself_with_the_reason(pwp):
    referral = not_improving(pwp)
    services.review_referral(referral.pk)
    session(referral, pwp, 7, 8, 7)  # PHQ-9 15 → 8, GAD-7 12 → 7: reliable improvement
    outcome = services.review_referral(referral.pk)
    assert [c[2] for c in outcome.cleared] == ["not_improving"]
    flag = ReviewFlag.objects.get(referral=referral, rule="not_improving")
    assert flag.status == FlagStatus.CLEARED and flag.resolved_at is not None and flag.resolved_by is None
    assert flag.resolution_note.startswith("Reliable improvement from the first scores: PHQ-9 fell by 7")
    assert AuditEvent.objects.filter(action="flag.clear", object_id=str(flag.pk)).exists()


def test_a_changed_finding_updates_the_open_flag_in_place(pwp):
    referral = referral_at_step(pwp, step=None, received_days_ago=100)
    services.review_referrals([referral.pk], today=today())
    amber = flags(referral)["long_wait"]
    assert amber.severity == "amber"
    services.review_referrals([referral.pk], today=today() + dt.timedelta(days=30))
    red = flags(referral)["long_wait"]
    assert red.pk == amber.pk and red.severity == "red" and red.updated_at is not None
    assert red.raised_at == amber.raised_at  # the flag keeps its age
    assert AuditEvent.objects.filter(action="flag.update", object_id=str(red.pk)).exists()


def test_a_dismissed_episode_is_not_raised_again_but_a_new_one_is(pwp, referral):
    referral = referral_at_step(pwp, step=None, received_days_ago=100)
    services.review_referral(referral.pk)
    services.resolve_flag(flag=flags(referral)["long_wait"], action="dismiss", reason="Offered a date", by=pwp)
    assert services.review_referral(referral.pk).raised == []
    assert "long_wait" not in flags(referral)
    # 30 days on the wait turns red: a new episode, raised again.
    later = services.review_referrals([referral.pk], today=today() + dt.timedelta(days=30))
    assert [f.rule for _, f in later.raised] == ["long_wait"]


def test_phq9_item_9_raises_the_risk_flag_inside_log_contact(pwp):
    """No broker, no on-commit callback (this test's transaction never commits): the flag is there."""
    referral = referral_at_step(pwp)
    session(referral, pwp, 3, 14, 9, item9=2)
    risk = flags(referral)["risk"]
    assert risk.severity == "red" and risk.recommendation == "risk"
    assert risk.evidence["phq9_item9"] == 2
    assert set(flags(referral)) == {"risk"}  # the other rules wait for the queued full review


def test_a_risk_flag_stays_open_until_a_clinician_records_the_risk_review(pwp):
    """A later PHQ-9 with item 9 at 0 does not close the risk flag: the flag says so and waits. Only the
    clinician's recorded review (who, when, what was decided) closes it; both appear in the history."""
    referral = referral_at_step(pwp)
    session(referral, pwp, 10, 14, 9, item9=2)
    services.review_referral(referral.pk)
    flag = ReviewFlag.objects.get(referral=referral, rule="risk", status=FlagStatus.OPEN)
    session(referral, pwp, 3, 12, 8, item9=0)
    services.review_referral(referral.pk)
    flag.refresh_from_db()
    assert flag.status == FlagStatus.OPEN
    assert "item 9 now 0" in flag.explanation and "only a clinician closes" in flag.explanation
    assert (flag.evidence["phq9_item9"], flag.evidence["latest_phq9_item9"]) == (2, 0)
    assert services.review_referral(referral.pk).changes == 0  # said once, not rewritten every scan

    with pytest.raises(ValidationError) as error:
        services.resolve_flag(flag=flag, action="accept", by=pwp)
    assert "risk review" in error.value.message_dict["reason"][0]
    services.resolve_flag(flag=flag, action="accept", by=pwp, reason="Risk review: no plan or intent; safety plan.")
    flag.refresh_from_db()
    assert (flag.status, flag.resolved_by) == (FlagStatus.ACCEPTED, pwp) and flag.resolved_at is not None
    kinds = list(referral.events.filter(kind__startswith="flag_").values_list("kind", "by"))
    assert kinds == [("flag_raised", None), ("flag_closed", pwp.pk)]


def test_entered_in_error_leaves_the_risk_flag_open_and_says_why(pwp):
    referral = referral_at_step(pwp)
    contact = session(referral, pwp, 3, 14, 9, item9=1)
    mark_contact_in_error(contact=contact, reason="Wrong patient", by=pwp)
    services.review_referral(referral.pk)
    flag = ReviewFlag.objects.get(referral=referral, rule="risk")
    assert flag.status == FlagStatus.OPEN
    assert "was marked entered in error" in flag.explanation


def test_the_review_engine_clears_other_flags_in_the_history_as_itself(pwp):
    referral = not_improving(pwp)
    services.review_referral(referral.pk)
    discharge(referral=referral, end_code="46", by=pwp)
    closed = AuditEvent.objects.filter(action="flag.clear", patient_id=referral.patient_id)
    assert closed.exists() and all(e.actor == pwp for e in closed)  # the discharging clinician closed them
    other = not_improving(pwp)
    services.review_referral(other.pk)
    flag = ReviewFlag.objects.get(referral=other, rule="not_improving", status=FlagStatus.OPEN)
    pwp.team.review_parameters = {"rules": ["risk"]}
    pwp.team.save()
    services.review_referral(other.pk)
    event = AuditEvent.objects.get(action="flag.clear", object_id=str(flag.pk))
    assert event.actor is None and event.system_actor == "review engine"
    assert other.events.filter(kind="flag_closed", by=None).exists()


def test_discharged_referrals_lose_their_open_flags(pwp):
    referral = not_improving(pwp)
    services.review_referral(referral.pk)
    discharge(referral=referral, end_code="46", by=pwp)
    assert flags(referral) == {}
    assert services.review_referral(referral.pk).raised == []


def test_team_parameters_change_the_rules(pwp):
    pwp.team.review_parameters = {"not_improving_contacts": {"2": 6}}
    pwp.team.save()
    referral = not_improving(pwp)
    services.review_referral(referral.pk)
    assert "not_improving" not in flags(referral)
    pwp.team.review_parameters = {"not_improving_contacts": {"2": 3}, "rules": ["not_improving"]}
    pwp.team.save()
    services.review_referral(referral.pk)
    assert set(flags(referral)) == {"not_improving"}


def test_invalid_team_parameters_fall_back_to_the_defaults(pwp, caplog):
    pwp.team.review_parameters = {"not_improving_contacts": "four", "unknown": 1}
    pwp.team.save()
    referral = not_improving(pwp)
    services.review_referral(referral.pk)
    assert "not_improving" in flags(referral)
    assert "Invalid review parameters" in caplog.text


def test_dry_run_writes_nothing(pwp):
    referral = not_improving(pwp)
    outcome = services.review_referral(referral.pk, dry_run=True)
    assert [f.rule for _, f in outcome.raised] == ["not_improving"]
    assert ReviewFlag.objects.count() == 0


def population(pwp):
    """Referrals that exercise every rule, and some that raise nothing."""
    made = [not_improving(pwp)]
    deteriorating = referral_at_step(pwp)
    session(deteriorating, pwp, 20, 10, 8, kind="01")
    session(deteriorating, pwp, 6, 18, 14)
    recovered = referral_at_step(pwp, step=3)
    for days, (p, g) in zip((30, 20, 10), ((14, 10), (8, 6), (5, 4)), strict=True):
        session(recovered, pwp, days, p, g)
    dna = referral_at_step(pwp)
    session(dna, pwp, 30, 12, 9, kind="01")
    session(dna, pwp, 15, attendance="3")
    session(dna, pwp, 8, attendance="3")
    waiting = [referral_at_step(pwp, step=None, received_days_ago=d) for d in (10, 50, 130)]
    risky = referral_at_step(pwp)
    session(risky, pwp, 5, 20, 15, item9=1)
    return [*made, deteriorating, recovered, dna, *waiting, risky]


def test_an_interrupted_scan_run_again_gives_exactly_the_same_flags(pwp, monkeypatch):
    referrals = population(pwp)
    ids = sorted(str(r.pk) for r in referrals)
    # Crash midway: the second chunk's write fails after the first chunk committed.
    real_apply = services._apply
    calls = {"n": 0}

    def crashing(outcome):
        calls["n"] += 1
        if calls["n"] == 2:
            raise RuntimeError("worker killed")
        return real_apply(outcome)

    monkeypatch.setattr(services, "_apply", crashing)
    with pytest.raises(RuntimeError):
        for chunk in services.chunks(ids, 3):
            services.review_referrals(chunk)
    partial = snapshot()
    monkeypatch.setattr(services, "_apply", real_apply)
    for chunk in services.chunks(ids, 3):  # the redelivered scan
        services.review_referrals(chunk)
    after_rerun = snapshot()
    assert len(partial) < len(after_rerun)

    # The same as the pure rules say ...
    ReviewFlag.objects.all().delete()
    expected = set()
    for r in referrals:
        expected |= {(str(r.pk), f.rule) for f in _findings(r)}
    assert {(rid, rule) for rid, rule, *_ in after_rerun} == expected
    # ... and as one clean scan of the same data.
    services.scan(chunk_size=4)
    assert snapshot() == after_rerun
    assert {"risk", "deterioration", "not_improving", "recovered", "disengaging", "long_wait"} <= {
        rule for _, rule in expected
    }
    # Running it once more changes nothing.
    assert services.scan(chunk_size=5).changes == 0
    assert snapshot() == after_rerun


def _findings(referral):
    outcome = services.review_referrals([referral.pk], dry_run=True)
    # With no flags stored, the dry run's raised list is exactly the pure rules' findings.
    return [f for _, f in outcome.raised]


def test_a_review_reads_with_a_fixed_number_of_queries(pwp, django_assert_num_queries):
    one = population(pwp)[:1]
    services.scan()
    # referrals with their open step, supervision discussions, contacts with scores, the patient's own
    # scores, the ADSM scores, flags, team parameters, the teams' expected recovery curves
    with django_assert_num_queries(8):
        assert services.review_referrals([r.pk for r in one]).changes == 0
    many = [str(pk) for pk in ReviewFlag.objects.values_list("referral_id", flat=True)]
    assert len(set(many)) > 5
    with django_assert_num_queries(8):
        assert services.review_referrals(many).changes == 0


def test_writing_the_differences_is_a_fixed_number_of_queries_per_kind(pwp, django_assert_num_queries):
    referrals = population(pwp)
    # read (8), lock with versions (1), flags again (1), insert flags (1), insert audit events (1),
    # insert history entries (1), savepoint (2)
    with django_assert_num_queries(15):
        outcome = services.review_referrals([r.pk for r in referrals])
    assert len(outcome.raised) >= 8


def test_the_command_calls_the_same_service(pwp, capsys):
    referral = not_improving(pwp)
    call_command("review_referrals", "--dry-run")
    out = capsys.readouterr().out
    assert "raise" in out and "not_improving" in out and "would be raised" in out
    assert ReviewFlag.objects.count() == 0
    call_command("review_referrals", "--referral", str(referral.pk))
    assert set(flags(referral)) == {"not_improving"}
    call_command("review_referrals", "--team", pwp.team.code)
    assert "0 flags raised" in capsys.readouterr().out


def test_the_command_names_a_bad_referral(db):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="not a referral id"):
        call_command("review_referrals", "--referral", "nope")
    with pytest.raises(CommandError, match="No referral with id"):
        call_command("review_referrals", "--referral", "00000000-0000-0000-0000-000000000000")


def test_service_parameters_come_from_review_defaults(db):
    assert services.team_review_parameters({}) == review.DEFAULT_PARAMETERS


def test_a_contact_logged_during_a_review_is_never_overwritten(pwp, monkeypatch):
    """The review read the history, then a contact arrived before it wrote: it reads again, locked."""
    from stepped_care import queries

    referral = not_improving(pwp)
    real_lock = queries.lock_referrals

    def contact_arrives_first(ids):
        monkeypatch.setattr(queries, "lock_referrals", real_lock)
        session(referral, pwp, 1, 8, 6)  # reliable improvement: not improving no longer holds
        return real_lock(ids)

    monkeypatch.setattr(queries, "lock_referrals", contact_arrives_first)
    outcome = services.review_referral(referral.pk)
    assert outcome.raised == [] and outcome.changes == 0
    assert ReviewFlag.objects.filter(referral=referral).count() == 0


def test_a_supervision_discussion_counts_as_a_review(pwp, supervisor):
    from supervision.models import CaseDecision, SupervisionSession

    referral = referral_at_step(pwp, step=None, received_days_ago=35)
    services.review_referral(referral.pk)
    assert "review_overdue" in flags(referral)
    session_ = SupervisionSession.objects.create(
        team=pwp.team, kind="case_management", date=today(), minutes=60, supervisor=supervisor, recorded_by=supervisor
    )
    CaseDecision.objects.create(session=session_, referral=referral, decision="continue", recorded_by=supervisor)
    services.review_referral(referral.pk)
    flag = ReviewFlag.objects.get(referral=referral, rule="review_overdue")
    assert flag.status == FlagStatus.CLEARED
    assert "supervision discussion" in flag.resolution_note


def test_a_step_change_queues_a_review(pwp, tasks_in_process, django_capture_on_commit_callbacks):
    referral = not_improving(pwp)
    services.review_referral(referral.pk)
    with django_capture_on_commit_callbacks(execute=True):
        services.change_step(referral=referral, step=3, reason="Stepped up in supervision", by=pwp)
    flag = ReviewFlag.objects.get(referral=referral, rule="not_improving")
    assert flag.status == FlagStatus.CLEARED
    assert flag.resolution_note == "Now at step 3; its review point is not reached yet."


def test_a_logged_contact_queues_a_full_review(pwp, tasks_in_process, django_capture_on_commit_callbacks):
    referral = referral_at_step(pwp)
    session(referral, pwp, 20, 10, 8, kind="01")
    with django_capture_on_commit_callbacks(execute=True):
        session(referral, pwp, 2, 18, 14)
    assert set(flags(referral)) == {"deterioration"}
