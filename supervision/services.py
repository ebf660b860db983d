"""Supervision writes: relationships, sessions, case decisions, sign-off and corrections.

One function per use case, each in one transaction and audited. A case decision acts through the
same services as every other door: ``stepped_care.services.decide`` (a step change with
source supervision, or a discharge) and ``close_flags`` for the flags it answers. Any error leaves nothing saved.
"""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from common import audit, permissions
from common.permissions import Meeting
from referrals.codes import EndCode, ReferralStatus
from referrals.models import Referral
from stepped_care.models import FlagStatus, ReviewFlag, Severity, StepSource
from stepped_care.services import close_flags, closure, decide, lock_referral

from . import rules
from .models import (
    CaseDecision,
    Decision,
    SessionAttendance,
    SupervisionRelationship,
    SupervisionSession,
    SupervisionType,
)
from .queries import CASE_REVIEW_KINDS, parameters


def _prefixed(exc: ValidationError, prefix: str) -> dict:
    """A service's field errors re-keyed under one decision row (``decisions.2.to_step``)."""
    if hasattr(exc, "error_dict"):
        return {f"{prefix}.{key}": [str(m) for m in msgs] for key, msgs in exc.message_dict.items()}
    return {f"{prefix}.non_field_errors": exc.messages}


# ---- Relationships ------------------------------------------------------------------------------


@transaction.atomic
def create_relationship(*, by, supervisor, supervisee, kind, frequency_days=None, minutes=None, started_on=None):
    """Name a supervisor for a supervisee in one kind of supervision, with its expected rhythm."""
    permissions.require(by, "manage_supervision", supervisee)
    defaults = parameters(supervisee.team)["kinds"].get(kind, {})
    errors = {}
    if kind not in SupervisionType.values:
        errors["kind"] = "Choose a kind of supervision."
    if supervisor.pk == supervisee.pk:
        errors["supervisor"] = "Nobody supervises themselves."
    elif supervisor.team_id != supervisee.team_id:
        errors["supervisor"] = "The supervisor must belong to the supervisee's team."
    elif not (supervisor.is_supervisor or supervisor.is_clinician):
        errors["supervisor"] = "The supervisor must be a clinician marked as a supervisor."
    if not supervisee.is_clinician:
        errors["supervisee"] = "Only clinicians receive clinical supervision."
    if (
        not errors
        and SupervisionRelationship.objects.filter(
            supervisor=supervisor, supervisee=supervisee, kind=kind, ended_on__isnull=True
        ).exists()
    ):
        errors["supervisee"] = f"{supervisor} already gives {supervisee} this kind of supervision."
    relationship = SupervisionRelationship(
        supervisor=supervisor,
        supervisee=supervisee,
        kind=kind,
        frequency_days=frequency_days or defaults.get("frequency_days", 7),
        minutes=minutes or defaults.get("minutes", 60),
        started_on=started_on or timezone.localdate(),
    )
    if errors:
        raise ValidationError(errors)
    relationship.full_clean(validate_constraints=False)
    relationship.save()
    audit.record(
        by,
        "supervision.relationship.create",
        relationship,
        changes={"supervisor": supervisor.pk, "supervisee": supervisee.pk, "kind": kind},
    )
    return relationship


@transaction.atomic
def end_relationship(*, relationship, by, ended_on=None):
    permissions.require(by, "manage_supervision", relationship.supervisee)
    relationship = SupervisionRelationship.objects.select_for_update().get(pk=relationship.pk)
    ended_on = ended_on or timezone.localdate()
    if relationship.ended_on is not None:
        raise ValidationError({"ended_on": "This relationship has already ended."})
    if ended_on < relationship.started_on:
        raise ValidationError({"ended_on": "A relationship cannot end before it started."})
    relationship.ended_on = ended_on
    relationship.save(update_fields=["ended_on"])
    audit.record(by, "supervision.relationship.end", relationship, changes={"ended_on": ended_on})
    return relationship


# ---- Sessions -----------------------------------------------------------------------------------


def _session_errors(*, by, kind, date, minutes, supervisor, supervisees, decisions, sign_off):
    errors = {}
    params = parameters(supervisor.team if supervisor else by.team)
    if kind not in SupervisionType.values:
        errors["kind"] = "Choose a kind of supervision."
    if date is None:
        errors["date"] = "Give the date of the session."
    elif date > timezone.localdate():
        errors["date"] = "A session cannot be recorded for a future date."
    if minutes in (None, ""):
        errors["minutes"] = "Give the length of the session in minutes."
    elif not isinstance(minutes, int) or isinstance(minutes, bool) or not 1 <= minutes <= 600:
        errors["minutes"] = "The length must be a whole number of minutes from 1 to 600."
    if supervisor is None:
        errors["supervisor"] = "Choose the supervisor."
        return errors
    ids = [s.pk for s in supervisees]
    if len(set(ids)) != len(ids):
        errors["supervisees"] = "Each supervisee can be listed once."
    elif supervisor.pk in ids:
        errors["supervisees"] = "The supervisor cannot also be a supervisee."
    elif any(s.team_id != supervisor.team_id for s in supervisees):
        errors["supervisees"] = "Supervisees must belong to the supervisor's team."
    elif kind in SupervisionType.values:
        message = rules.group_size_error(kind, len(ids), params, label=SupervisionType(kind).label)
        if message:
            errors["supervisees"] = message
    if "supervisees" not in errors and kind in SupervisionType.values and not supervisor.is_supervisor:
        linked = set(
            SupervisionRelationship.objects.filter(
                supervisor=supervisor, supervisee_id__in=ids, kind=kind, ended_on__isnull=True
            ).values_list("supervisee_id", flat=True)
        )
        missing = [str(s) for s in supervisees if s.pk not in linked]
        if missing:
            errors["supervisor"] = (
                f"{supervisor} is not a supervisor and does not give {', '.join(missing)} this kind of supervision."
            )
    if decisions and kind not in CASE_REVIEW_KINDS:
        errors["decisions"] = "Case decisions are recorded in case-management or high-intensity clinical supervision."
    if sign_off and by.pk != supervisor.pk:
        errors["sign_off"] = "Only the supervisor can sign the session off."
    return errors


@transaction.atomic
def record_session(
    *, by, kind, date, minutes, supervisor, supervisees, notes="", decisions=(), sign_off=False
) -> SupervisionSession:
    """Record a session with the case decisions taken in it, each carried out at once.

    ``decisions``: dicts with ``referral``, ``decision``, and optionally ``notes``, ``to_step``,
    ``end_code``, ``version`` (the referral version the caller read) and ``reasons`` (why the case was
    listed). Errors on a decision are keyed ``decisions.<index>.<field>``. All or nothing.
    """
    supervisees = list(supervisees)
    decisions = list(decisions)
    permissions.require(
        by, "record_supervision", Meeting(getattr(supervisor, "pk", None), frozenset(s.pk for s in supervisees))
    )
    errors = _session_errors(
        by=by,
        kind=kind,
        date=date,
        minutes=minutes,
        supervisor=supervisor,
        supervisees=supervisees,
        decisions=decisions,
        sign_off=sign_off,
    )
    if errors:
        raise ValidationError(errors)
    session = SupervisionSession.objects.create(
        team=supervisor.team,
        kind=kind,
        date=date,
        minutes=minutes,
        supervisor=supervisor,
        notes=(notes or "").strip(),
        recorded_by=by,
    )
    SessionAttendance.objects.bulk_create([SessionAttendance(session=session, supervisee=s) for s in supervisees])
    _decide_all(session, decisions, by, supervisee_ids=[s.pk for s in supervisees])
    if sign_off:
        session.signed_off_at = timezone.now()
        session.signed_off_by = by
        session.save(update_fields=["signed_off_at", "signed_off_by"])
    audit.record(
        by,
        "supervision.session.create",
        session,
        changes={
            "kind": kind,
            "date": date,
            "minutes": minutes,
            "supervisor": supervisor.pk,
            "supervisees": [s.pk for s in supervisees],
            "decisions": len(decisions),
            "signed_off": bool(sign_off),
        },
    )
    return session


def _lock_session(session):
    return SupervisionSession.objects.select_for_update().select_related("supervisor", "team").get(pk=session.pk)


def _attendee_ids(session):
    return list(session.attendance.values_list("supervisee_id", flat=True))


def meeting(session, ids=None, recorded_by_id=None):
    """The session as the rulebook sees it."""
    return Meeting(
        supervisor_id=session.supervisor_id,
        supervisee_ids=frozenset(_attendee_ids(session) if ids is None else ids),
        team_id=session.team_id,
        recorded_by_id=recorded_by_id if recorded_by_id is not None else session.recorded_by_id,
        signed_off=session.signed_off,
    )


@transaction.atomic
def add_decisions(*, session, by, decisions) -> list[CaseDecision]:
    """Add case decisions to a session not yet signed off (a case remembered after the session)."""
    session = _lock_session(session)
    ids = _attendee_ids(session)
    permissions.require(by, "record_supervision", meeting(session, ids))
    errors = {}
    if session.entered_in_error:
        errors["session"] = "This session was entered in error."
    elif session.signed_off:
        errors["session"] = "This session is signed off; correct a decision instead of adding one."
    elif session.kind not in CASE_REVIEW_KINDS:
        errors["decisions"] = "Case decisions are recorded in case-management or high-intensity clinical supervision."
    elif not decisions:
        errors["decisions"] = "Add at least one decision."
    if errors:
        raise ValidationError(errors)
    made = _decide_all(session, list(decisions), by, supervisee_ids=ids)
    return made


@transaction.atomic
def sign_off_session(*, session, by) -> SupervisionSession:
    """The supervisor confirms the record; after this it takes no new decisions, only corrections."""
    session = _lock_session(session)
    permissions.require(by, "sign_off_supervision", meeting(session, ()))
    if session.entered_in_error:
        raise ValidationError({"session": "This session was entered in error."})
    if session.signed_off:
        raise ValidationError({"session": "This session is already signed off."})
    session.signed_off_at = timezone.now()
    session.signed_off_by = by
    session.save(update_fields=["signed_off_at", "signed_off_by"])
    audit.record(by, "supervision.session.sign_off", session)
    return session


@transaction.atomic
def mark_session_in_error(*, session, reason, by) -> SupervisionSession:
    """Correction, not deletion: the session and its decisions stay, no longer counted.

    Steps changed and discharges made by its decisions are clinical history of their own and stay.
    """
    session = _lock_session(session)
    permissions.require(by, "withdraw_supervision", meeting(session, ()))
    if not (reason or "").strip():
        raise ValidationError({"reason": "Say why the session was entered in error."})
    if session.entered_in_error:
        raise ValidationError({"reason": "This session is already marked entered in error."})
    session.entered_in_error = True
    session.error_reason = reason.strip()
    session.save(update_fields=["entered_in_error", "error_reason"])
    audit.record(by, "supervision.session.entered_in_error", session, changes={"reason": reason.strip()})
    return session


# ---- Case decisions -----------------------------------------------------------------------------


def _decide_all(session, decisions, by, *, supervisee_ids):
    errors = {}
    referral_ids = [d.get("referral").pk if d.get("referral") is not None else None for d in decisions]
    visible = set(
        Referral.objects.visible_to(by)
        .filter(pk__in=[r for r in referral_ids if r], care_coordinator_id__in=supervisee_ids)
        .values_list("pk", flat=True)
    )
    already = set(
        CaseDecision.objects.filter(session=session, entered_in_error=False).values_list("referral_id", flat=True)
    )
    seen = set()
    for index, (entry, rid) in enumerate(zip(decisions, referral_ids, strict=True)):
        prefix = f"decisions.{index}"
        if rid is None:
            errors[f"{prefix}.referral"] = "Choose the case."
        elif rid not in visible:
            errors[f"{prefix}.referral"] = "This case is not on the caseload of the session's supervisee(s)."
        elif rid in seen or rid in already:
            errors[f"{prefix}.referral"] = "This case already has a decision in this session."
        seen.add(rid)
        if entry.get("decision") not in Decision.values:
            errors[f"{prefix}.decision"] = "Choose a decision."
    if errors:
        raise ValidationError(errors)
    made = []
    for index, entry in enumerate(decisions):
        try:
            made.append(_decide(session, entry, by))
        except ValidationError as exc:
            raise ValidationError(_prefixed(exc, f"decisions.{index}")) from exc
    return made


def _decide(session, entry, by, *, corrects=None) -> CaseDecision:
    """Carry out one decision: the step change or discharge, then the flags it answers."""
    referral = lock_referral(entry["referral"], entry.get("version"))
    permissions.require(by, "supervision_decision", referral)
    decision = entry["decision"]
    notes = (entry.get("notes") or "").strip()
    end_code = entry.get("end_code") or ""
    to_step = entry.get("to_step")
    if decision == Decision.REFER_ON and not end_code:
        end_code = rules.REFERRED_ON_END_CODE
    if decision in rules.STEP_DECISIONS and to_step in (None, ""):
        to_step = rules.default_step(decision, referral.current_step)
    to_step = int(to_step) if to_step not in (None, "") else None
    if referral.status == ReferralStatus.DISCHARGED:
        raise ValidationError({"referral": "This referral has been discharged; its decisions can no longer act."})
    errors = rules.decision_errors(
        decision, current_step=referral.current_step, to_step=to_step, end_code=end_code, end_codes=EndCode.values
    )
    if errors:
        raise ValidationError(errors)
    label = Decision(decision).label
    note = f"Supervision on {session.date:%d %b %Y} ({SupervisionType(session.kind).label.lower()}): {label.lower()}"
    if notes:
        note += f". {notes}"
    open_flags = list(ReviewFlag.objects.select_for_update().filter(referral=referral, status=FlagStatus.OPEN))
    severity_rank = {Severity.RED: 0, Severity.AMBER: 1, Severity.GREEN: 2}
    open_flags.sort(key=lambda f: (severity_rank.get(f.severity, 3), f.raised_at))
    effects = [(flag, rules.flag_effect(decision, flag.recommendation)) for flag in open_flags]
    effects = [(flag, effect) for flag, effect in effects if effect]
    assignment = None
    if decision in rules.STEP_DECISIONS:
        followed = next((f for f, e in effects if e == "accept" and f.recommendation == decision), None)
        assignment = decide(
            referral=referral,
            action="step",
            step=to_step,
            reason=note,
            by=by,
            source=StepSource.SUPERVISION,
            flag=followed,
            on=session.date,
        )
    # The flags the decision answers close as accepted (it follows them) or dismissed (it decided
    # otherwise); the decision itself has made any step change or discharge they proposed.
    for status in (FlagStatus.ACCEPTED, FlagStatus.DISMISSED):
        wanted = "accept" if status == FlagStatus.ACCEPTED else "dismiss"
        answered = [closure(flag, note, via="supervision") for flag, effect in effects if effect == wanted]
        close_flags(answered, status=status, by=by)
    if decision in rules.ENDING_DECISIONS:
        decide(
            referral=referral,
            action="discharge",
            end_code=end_code,
            by=by,
            source=StepSource.SUPERVISION,
            reason=note,
            on=session.date,
        )
    row = CaseDecision.objects.create(
        session=session,
        referral=referral,
        decision=decision,
        notes=notes,
        to_step=to_step if decision in rules.STEP_DECISIONS else None,
        end_code=end_code if decision in rules.ENDING_DECISIONS else "",
        reasons=[str(r) for r in entry.get("reasons") or []],
        step_assignment=assignment,
        corrects=corrects,
        recorded_by=by,
    )
    if effects:
        row.flags_resolved.set([flag for flag, _ in effects])
    audit.record(
        by,
        "supervision.decision",
        row,
        patient_id=referral.patient_id,
        changes={
            "session": session.pk,
            "decision": decision,
            "to_step": row.to_step,
            "end_code": row.end_code,
            "flags": {str(flag.pk): effect for flag, effect in effects},
            "corrects": corrects.pk if corrects else None,
        },
    )
    return row


@transaction.atomic
def mark_decision_in_error(*, decision, reason, by) -> CaseDecision:
    """Withdraw a decision recorded by mistake. What it already did (a step change, a discharge,
    closed flags) stays as clinical history: record a new decision or step change to reverse it."""
    decision = CaseDecision.objects.select_for_update().select_related("session", "referral").get(pk=decision.pk)
    permissions.require(by, "withdraw_supervision", meeting(decision.session, (), decision.recorded_by_id))
    return _mark_decision_in_error(decision, reason, by)


def _mark_decision_in_error(decision, reason, by):
    if not (reason or "").strip():
        raise ValidationError({"reason": "Say why the decision was entered in error."})
    if decision.entered_in_error:
        raise ValidationError({"reason": "This decision is already marked entered in error."})
    decision.entered_in_error = True
    decision.error_reason = reason.strip()
    decision.save(update_fields=["entered_in_error", "error_reason"])
    audit.record(
        by,
        "supervision.decision.entered_in_error",
        decision,
        patient_id=decision.referral.patient_id,
        changes={"reason": reason.strip()},
    )
    return decision


@transaction.atomic
def correct_decision(*, decision, reason, by, new) -> CaseDecision:
    """Replace a decision: mark it entered in error and record ``new`` (same keys as in
    ``record_session``; the referral stays the same) in its place, carried out like any decision.
    After sign-off only the supervisor may correct."""
    old = CaseDecision.objects.select_for_update().select_related("session", "referral").get(pk=decision.pk)
    session = _lock_session(old.session)
    permissions.require(by, "correct_decision", meeting(session))
    if session.entered_in_error:
        raise ValidationError({"session": "This session was entered in error."})
    _mark_decision_in_error(old, reason, by)
    entry = dict(new)
    entry["referral"] = old.referral
    if entry.get("decision") not in Decision.values:
        raise ValidationError({"decision": "Choose a decision."})
    entry.setdefault("reasons", old.reasons)
    return _decide(session, entry, by, corrects=old)


# ---- Demo data ----------------------------------------------------------------------------------


def seed_demo_sessions(team, *, weeks=8, today=None) -> int:
    """Believable supervision history for the demo: weekly case management and fortnightly clinical
    skills for PWPs (one PWP misses a week, so compliance has something to show), weekly clinical
    supervision for HI therapists, each signed off, with "continue" decisions on a few unflagged cases.
    Idempotent: does nothing when the team already has sessions. Returns the number of sessions made."""
    today = today or timezone.localdate()
    if SupervisionSession.objects.filter(team=team).exists():
        return 0
    relationships = list(
        SupervisionRelationship.objects.filter(supervisee__team=team, ended_on__isnull=True)
        .select_related("supervisor", "supervisee")
        .order_by("supervisee__username", "kind")
    )
    made = 0
    skipped_one = False
    groups = {}
    for rel in relationships:
        if rel.kind == SupervisionType.CLINICAL_SKILLS:
            groups.setdefault(rel.supervisor, []).append(rel.supervisee)
            continue
        if rel.kind not in CASE_REVIEW_KINDS:
            continue
        cases = list(
            Referral.objects.filter(care_coordinator=rel.supervisee)
            .exclude(status="discharged")
            .exclude(flags__status=FlagStatus.OPEN)
            .order_by("received_on")[:6]
        )
        for week in range(weeks, 0, -1):
            day = today - dt.timedelta(days=7 * week - 2)
            if not skipped_one and week == 3 and rel.kind == SupervisionType.CASE_MANAGEMENT:
                skipped_one = True  # a missed week: compliance shows it
                continue
            picked = [c for c in cases[week % 3 :: 3] if c.received_on <= day and _started_by(c, day)]
            with transaction.atomic():
                session = record_session(
                    by=rel.supervisor,
                    kind=rel.kind,
                    date=day,
                    minutes=rel.minutes,
                    supervisor=rel.supervisor,
                    supervisees=[rel.supervisee],
                    notes="Caseload reviewed.",
                    decisions=[
                        {"referral": c, "decision": Decision.CONTINUE, "notes": "Plan unchanged."} for c in picked
                    ],
                    sign_off=True,
                )
            made += 1 if session else 0
    params = parameters(team)["kinds"][SupervisionType.CLINICAL_SKILLS]
    for supervisor, members in groups.items():
        size = params.get("max_supervisees") or len(members)
        for fortnight in range(max(1, weeks // 2), 0, -1):
            day = today - dt.timedelta(days=14 * fortnight - 3)
            for start in range(0, len(members), size):
                record_session(
                    by=supervisor,
                    kind=SupervisionType.CLINICAL_SKILLS,
                    date=day,
                    minutes=60,
                    supervisor=supervisor,
                    supervisees=members[start : start + size],
                    notes="Skills practice: behavioural activation.",
                    sign_off=True,
                )
                made += 1
    return made


def _started_by(referral, day):
    """A demo decision only on a case whose current step began on or before the session."""
    step = referral.steps.filter(ended_on__isnull=True).values_list("started_on", flat=True).first()
    return step is None or step <= day
