"""Stepped-care writes: changing a referral's step; raising, clearing and resolving review flags.
One function per use case, each in a transaction, each audited."""

import datetime as dt
import gc
import hashlib
import logging
import uuid
from contextlib import contextmanager
from dataclasses import dataclass, field
from itertools import groupby
from operator import itemgetter

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from common import audit, outbox, permissions, plausibility
from common.exceptions import Conflict
from common.standards import standards
from outcomes.queries import current_curves
from outcomes.services import refresh_summary
from referrals.codes import ATTENDED_CODES, TREATMENT_TYPES, EndCode, ReferralStatus, end_code_problem
from referrals.models import Referral, ReferralEvent

from . import queries, review
from .models import FlagRule, FlagStatus, Recommendation, ReviewFlag, Severity, Step, StepAssignment, StepSource


def lock_referral(referral, expected_version=None):
    """Lock the referral row for this transaction; refuse a caller holding a stale version."""
    locked = Referral.objects.select_for_update().get(pk=referral.pk)
    if expected_version is not None and int(expected_version) != locked.version:
        raise Conflict()
    return locked


def bump_version(referral, *fields):
    referral.version += 1
    referral.save(update_fields=["version", *fields])


@transaction.atomic
def change_step(*, referral, step, reason, by, source=StepSource.CLINICIAN, flag=None, on=None, expected_version=None):
    """Move a referral to another step (or assign its first): end the open step, open the new one.
    A clinician on the case decides it; a supervisor through a supervision decision (``source``)."""
    permissions.require(by, "supervision_decision" if source == StepSource.SUPERVISION else "change_step", referral)
    referral = lock_referral(referral, expected_version)
    on = on or timezone.localdate()
    errors = {}
    if step not in Step.values:
        errors["step"] = "Choose a step from 1 to 5."
    if not (reason or "").strip():
        errors["reason"] = "Give the reason for the step change."
    if referral.status == "discharged":
        errors["step"] = "This referral has been discharged; its step can no longer change."
    elif referral.current_step == step:
        errors["step"] = f"The referral is already on step {step}."
    if not isinstance(on, dt.date):
        errors["started_on"] = "Give the date the step starts."
    elif on < referral.received_on:
        errors["started_on"] = "A step cannot start before the referral was received."
    elif on > timezone.localdate():
        errors["started_on"] = "A step cannot start in the future."
    if errors:
        raise ValidationError(errors)
    current = StepAssignment.objects.filter(referral=referral, ended_on__isnull=True).first()
    if current:
        if on < current.started_on:
            raise ValidationError({"started_on": "The new step cannot start before the current one did."})
        current.ended_on = on
        current.save(update_fields=["ended_on"])
    assignment = StepAssignment.objects.create(
        referral=referral,
        step=step,
        started_on=on,
        reason=reason.strip(),
        source=source,
        decided_by=by,
        flag=flag,
    )
    previous = referral.current_step
    referral.current_step = step
    bump_version(referral, "current_step")
    audit.record(
        by,
        "step.change",
        assignment,
        patient_id=referral.patient_id,
        changes={"from": previous, "to": step, "reason": assignment.reason, "source": source},
    )
    queue_review(referral.pk)  # the step is one of the review rules' inputs
    return assignment


REVIEW_TASK = "stepped_care.tasks.review_referral"


def queue_review(referral_id):
    """Record that this referral must be reviewed, in the caller's transaction (the outbox): after
    commit the review runs on a worker, or here when there is no broker or it does not answer."""
    outbox.enqueue(REVIEW_TASK, referral_id=str(referral_id))


# ---------------------------------------------------------------------------------------------
# Discharge (stepping out): ends the referral, its step and its open flags


@transaction.atomic
def discharge(
    *, referral, end_code, by, discharged_on=None, note="", expected_version=None, source=StepSource.CLINICIAN
):
    """End the referral with an end code: close its step and its open flags, finish its outcome.
    A clinician on the case decides it; a supervisor through a supervision decision (``source``)."""
    permissions.require(by, "supervision_decision" if source == StepSource.SUPERVISION else "discharge", referral)
    referral = lock_referral(referral, expected_version)
    discharged_on = discharged_on or timezone.localdate()
    errors = {}
    if referral.status == ReferralStatus.DISCHARGED:
        errors["end_code"] = "This referral is already discharged."
    if end_code not in EndCode.values:
        errors["end_code"] = "Choose a referral end code."
    note_problem = plausibility.text_problem(note, max_length=plausibility.REASON_MAX, multiline=True)
    if note_problem:
        errors["note"] = note_problem
    if discharged_on < referral.received_on:
        errors["discharged_on"] = "Discharge cannot be before the referral was received."
    elif discharged_on > timezone.localdate():
        errors["discharged_on"] = "Discharge cannot be in the future."
    attended = referral.contacts.valid().filter(attendance__in=ATTENDED_CODES)
    if end_code in EndCode.values and "end_code" not in errors:
        treated = attended.filter(appointment_type__in=TREATMENT_TYPES).exists()
        seen = treated or attended.exists()
        problem = end_code_problem(end_code, seen=seen, taken_on=referral.current_step is not None, treated=treated)
        if problem:
            errors["end_code"] = problem
    last_contact = referral.contacts.valid().order_by("-date").values_list("date", flat=True).first()
    if last_contact and discharged_on < last_contact and "discharged_on" not in errors:
        errors["discharged_on"] = f"Discharge cannot be before the last contact ({last_contact:%d %b %Y})."
    if errors:
        raise ValidationError(errors)
    referral.move_to(ReferralStatus.DISCHARGED, by, note=note)
    referral.discharged_on = discharged_on
    referral.end_code = end_code
    bump_version(referral, "status", "discharged_on", "end_code")
    # The open step ends at discharge; a step recorded later than a back-dated discharge ends the day it began.
    for step in StepAssignment.objects.filter(referral=referral, ended_on__isnull=True):
        step.ended_on = max(discharged_on, step.started_on)
        step.save(update_fields=["ended_on"])
    note = f"Referral discharged ({EndCode(end_code).label.lower()})"
    close_flags(
        [
            Closure(f.pk, referral.pk, referral.patient_id, f.rule, note)
            for f in referral.flags.filter(status=FlagStatus.OPEN)
        ],
        status=FlagStatus.CLEARED,
        by=by,
    )
    ReferralEvent.objects.create(
        referral=referral, kind=ReferralEvent.Kind.DISCHARGED, by=by, to_value=EndCode(end_code).label, note=note
    )
    refresh_summary(referral)
    audit.record(
        by,
        "referral.discharge",
        referral,
        patient_id=referral.patient_id,
        changes={"end_code": end_code, "discharged_on": discharged_on},
    )
    return referral


# ---------------------------------------------------------------------------------------------
# Review flags: raising and clearing them (the review engine) and resolving them (clinicians)

log = logging.getLogger(__name__)


@dataclass
class ReviewOutcome:
    """What one review run found and changed: counts, and the changes themselves for --dry-run."""

    reviewed: int = 0
    raised: list = field(default_factory=list)  # (referral_id, Finding)
    updated: list = field(default_factory=list)  # (referral_id, flag_id, Finding)
    cleared: list = field(default_factory=list)  # (referral_id, flag_id, rule, reason)
    unchanged: int = 0
    patients: dict = field(default_factory=dict)  # referral id → patient id, for the audit trail
    seen: dict = field(default_factory=dict)  # referral id → (version, flags) the plan rests on

    @property
    def changes(self):
        return len(self.raised) + len(self.updated) + len(self.cleared)

    def touched(self):
        """Ids of the referrals whose flags change."""
        return {r[0] for r in self.raised} | {r[0] for r in self.updated} | {r[0] for r in self.cleared}

    def add(self, other):
        self.reviewed += other.reviewed
        self.raised += other.raised
        self.updated += other.updated
        self.cleared += other.cleared
        self.unchanged += other.unchanged
        self.patients.update(other.patients)
        self.seen.update(other.seen)
        return self

    def without(self, referral_ids):
        """This outcome less the given referrals (to be planned again)."""
        drop = set(referral_ids)
        rest = ReviewOutcome(
            reviewed=self.reviewed - len(drop),
            raised=[r for r in self.raised if r[0] not in drop],
            updated=[r for r in self.updated if r[0] not in drop],
            cleared=[r for r in self.cleared if r[0] not in drop],
            patients=self.patients,
            seen={k: v for k, v in self.seen.items() if k not in drop},
        )
        rest.unchanged = rest.reviewed - len(rest.touched())
        return rest


def _digest(finding):
    """A short fingerprint of what a flag rests on (its words and evidence are made from these), so
    that an unchanged finding costs neither text nor a write."""
    text = repr((finding.recommendation, finding.severity, finding.episode, finding.data))
    return hashlib.blake2b(text.encode(), digest_size=12).hexdigest()


def team_review_parameters(overrides):
    """A team's rule parameters; an invalid override is logged and the default used instead."""
    errors = review.validate_parameters(overrides)
    if errors:
        log.error("Invalid review parameters %s; using the defaults for those", errors)
    return review.parameters(overrides, strict=False)


EMPTY_FLAGS = ({}, frozenset())
EMPTY_ANXIETY = {}  # read only


def _flag_state(rows, wanted):
    """{referral id: ({rule: (open flag id, digest, episode)}, {(rule, episode) a clinician resolved})}."""
    state = {}
    for pk, rid, rule, status, episode, digest in rows:
        if rid not in wanted:
            continue
        opened, resolved = state.setdefault(rid, ({}, set()))
        if status == FlagStatus.OPEN:
            opened[rule] = (pk, digest, episode)
        else:
            resolved.add((rule, episode))
    return state


def _read(referral_ids):
    """Everything the rules need about these referrals (sorted ids), in a fixed number of queries."""
    wanted = set(referral_ids)
    referrals = [r for r in queries.referral_rows(referral_ids) if r[0] in wanted]
    params = queries.team_parameters(r[1] for r in referrals)
    supervised = queries.last_supervision_discussions(referral_ids)
    contacts = {}
    for rid, rows in groupby(queries.contact_rows(referral_ids), key=itemgetter(6)):
        if rid in wanted:
            contacts[rid] = list(rows)
    own = {}  # the patient's own scores (no contact), merged in date order, before a contact of the same day
    for row in queries.patient_score_rows(referral_ids):
        if row[6] in wanted:
            own.setdefault(row[6], []).append(row)
    for rid, rows in own.items():
        contacts[rid] = sorted([*rows, *contacts.get(rid, [])], key=itemgetter(0))
    curves = current_curves(params)  # each team's expected recovery curves (the not-on-track rule)
    # {referral: {ADSM: [(date, score), ...]}}: only the not-on-track rule reads them, and only against
    # a team's curves, so the referrals of teams without curves need none read.
    judged = {tid for tid, c in curves.items() if c is not None and not c.empty}
    anxiety = {}
    scored = [r[0] for r in referrals if r[1] in judged]
    for rid, on, measure, total in queries.anxiety_score_rows(scored):
        if rid in wanted:
            anxiety.setdefault(rid, {}).setdefault(measure, []).append((on, float(total)))
    flags = _flag_state(queries.flag_rows(referral_ids), wanted)
    return referrals, params, supervised, contacts, anxiety, flags, curves


def _evaluate(read, today, rules=None):
    """Evaluate the rules on what ``_read`` returned and compare with the flags: the differences."""
    referrals, params, supervised, contacts, anxiety, flags, curves = read
    outcome = ReviewOutcome()
    mixed = standards()["mixed_reliable_change"]
    params = {tid: team_review_parameters(p) for tid, p in params.items()}
    for rid, team_id, patient_id, status, received_on, step, step_on, version in referrals:
        history = review.History(
            status,
            received_on,
            step,
            step_on,
            contacts.get(rid, ()),
            supervised.get(rid),
            curves.get(team_id),
            anxiety.get(rid, EMPTY_ANXIETY),
        )
        team_params = params.get(team_id) or review.DEFAULT_PARAMETERS
        findings = review.evaluate(history, today, team_params, mixed_policy=mixed)
        state = flags.get(rid, EMPTY_FLAGS)
        opened, resolved = state
        outcome.reviewed += 1
        outcome.seen[rid] = (version, state)
        outcome.patients[rid] = patient_id
        found_rules = set()
        for finding in findings:
            if rules is not None and finding.rule not in rules:
                continue
            if (finding.rule, finding.episode) in resolved and finding.rule not in opened:
                continue  # a clinician already resolved this very episode
            found_rules.add(finding.rule)
            flag = opened.get(finding.rule)
            if flag is None:
                outcome.raised.append((rid, finding))
            elif flag[1] != _digest(finding):
                outcome.updated.append((rid, flag[0], finding))
        for rule, (flag_id, digest, episode) in opened.items():
            if rule in found_rules or (rules is not None and rule not in rules):
                continue
            if rule == review.RISK and status != review.DISCHARGED:
                # Only a clinician's recorded risk review closes a risk flag: the flag says what the
                # latest PHQ-9 shows instead.
                due = review.risk_review_due(history, episode, team_params)
                if digest != _digest(due):
                    outcome.updated.append((rid, flag_id, due))
                continue
            outcome.cleared.append((rid, flag_id, rule, review.clear_reason(rule, history, today, team_params)))
    outcome.unchanged = outcome.reviewed - len(outcome.touched())
    return outcome


def _plan(referral_ids, today, rules=None):
    """Read the histories, evaluate the rules and compare with the flags: the differences to write."""
    referral_ids = queries.sorted_ids(referral_ids)
    if not referral_ids:
        return ReviewOutcome()
    return _evaluate(_read(referral_ids), today, rules)


def _apply(outcome):
    """Write the differences: new flags in one insert, changed ones updated, cleared ones closed. Every
    change leaves an audit event (actor: the review engine); raised and closed flags also enter the
    referral's history."""
    now = timezone.now()
    events, history = [], []

    def event(action, flag_id, rid, changes):
        events.append(
            audit.event(
                audit.REVIEW_ENGINE,
                action,
                object_type=FLAG_TYPE,
                object_id=str(flag_id),
                patient_id=outcome.patients.get(rid),
                changes=changes,
                at=now,
            )
        )

    new = []
    for rid, finding in outcome.raised:
        flag = ReviewFlag(
            id=uuid.uuid4(),
            referral_id=rid,
            rule=finding.rule,
            recommendation=finding.recommendation,
            severity=finding.severity,
            explanation=finding.explanation,
            evidence=finding.evidence,
            episode=finding.episode,
            digest=_digest(finding),
        )
        new.append(flag)
        event(
            "flag.raise", flag.id, rid, {"rule": finding.rule, "severity": finding.severity, "why": finding.explanation}
        )
        history.append(
            ReferralEvent(
                referral_id=rid,
                kind=ReferralEvent.Kind.FLAG_RAISED,
                to_value=f"{FlagRule(finding.rule).label} ({Severity(finding.severity).label.lower()})",
                note=finding.explanation,
            )
        )
    ReviewFlag.objects.bulk_create(new, batch_size=1000)
    for rid, flag_id, finding in outcome.updated:
        ReviewFlag.objects.filter(pk=flag_id, status=FlagStatus.OPEN).update(
            recommendation=finding.recommendation,
            severity=finding.severity,
            explanation=finding.explanation,
            evidence=finding.evidence,
            episode=finding.episode,
            digest=_digest(finding),
            updated_at=now,
        )
        event(
            "flag.update",
            flag_id,
            rid,
            {"rule": finding.rule, "severity": finding.severity, "why": finding.explanation},
        )
    audit.record_many(events)
    ReferralEvent.objects.bulk_create(history, batch_size=1000)
    close_flags(
        [
            Closure(flag_id, rid, outcome.patients.get(rid), rule, reason)
            for rid, flag_id, rule, reason in outcome.cleared
        ],
        status=FlagStatus.CLEARED,
        by=audit.REVIEW_ENGINE,
        now=now,
    )


@contextmanager
def gc_paused():
    """Hold Python's cycle collector while a chunk is read and evaluated: the rows are hundreds of
    thousands of short-lived tuples, and collections that walk them all cost a third of a scan.
    Nothing here makes reference cycles; the collector resumes (and catches up) afterwards."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def review_referrals(referral_ids, *, today=None, dry_run=False, rules=None):
    """Review these referrals: raise new flags, update changed ones, clear those that no longer hold.

    Idempotent: a second run on the same data changes nothing. The review reads without locks; then
    the referrals whose flags must change are locked (a contact being logged for one of them waits, or
    is waited for) and checked: any whose version or flags moved since the read is read and evaluated
    again under the lock, so a review of older data never overwrites a newer one.
    """
    today = today or timezone.localdate()
    rules = set(rules) if rules is not None else None
    with gc_paused():
        outcome = _plan(referral_ids, today, rules)
    if dry_run or not outcome.changes:
        return outcome
    changed = queries.sorted_ids(outcome.touched())
    with transaction.atomic():
        versions = queries.lock_referrals(changed)
        now = _flag_state(queries.flag_rows(changed), set(changed))
        stale = [
            rid
            for rid in changed
            if versions.get(rid) != outcome.seen[rid][0] or now.get(rid, EMPTY_FLAGS) != outcome.seen[rid][1]
        ]
        if stale:
            outcome = outcome.without(stale).add(_plan(stale, today, rules))
        _apply(outcome)
    return outcome


def review_referral(referral_id, *, today=None, dry_run=False):
    """Run the review rules for one referral and raise, update or clear its flags (see review.py)."""
    return review_referrals([referral_id], today=today, dry_run=dry_run)


def raise_risk_flag(referral):
    """Raise the risk flag now, in the caller's transaction: a safety signal must not wait for the
    broker (the queued full review follows)."""
    return review_referrals([referral.pk], rules={review.RISK})


def scan(*, team_id=None, chunk_size=2000, today=None, dry_run=False):
    """Review every active referral in chunks, in this process (the command and the benchmark)."""
    ids = queries.active_referral_ids(team_id)
    total = ReviewOutcome()
    with queries.scan_session():
        for start in range(0, len(ids), chunk_size):
            total.add(review_referrals(ids[start : start + chunk_size], today=today, dry_run=dry_run))
    return total


def chunks(ids, size):
    return [[str(i) for i in ids[start : start + size]] for start in range(0, len(ids), size)]


# ---------------------------------------------------------------------------------------------
# Closing flags and acting on decisions: one path each, whoever acts (a clinician on a flag, a
# supervision decision, a discharge, the review engine)

FLAG_TYPE = "stepped_care.reviewflag"
CLOSE_ACTIONS = {
    FlagStatus.ACCEPTED: "flag.accept",
    FlagStatus.DISMISSED: "flag.dismiss",
    FlagStatus.CLEARED: "flag.clear",
}


@dataclass(frozen=True)
class Closure:
    """One flag to close and the words for why."""

    flag_id: object
    referral_id: object
    patient_id: object
    rule: str
    note: str
    changes: dict = field(default_factory=dict)


def closure(flag, note, **changes):
    return Closure(flag.pk, flag.referral_id, None, flag.rule, note, changes)


def close_flags(closures, *, status, by, now=None):
    """Close open flags: the one way a review flag closes. Compare-and-set on the open status (a flag
    closed meanwhile is left as it is); each flag that closes leaves an audit event and an entry in
    its referral's history. ``by`` is the clinician, or ``audit.REVIEW_ENGINE``. Returns those closed."""
    closures = list(closures)
    if not closures:
        return []
    now = now or timezone.now()
    person = by if getattr(by, "is_authenticated", False) else None
    missing = {c.referral_id for c in closures if c.patient_id is None}
    patients = dict(Referral.objects.filter(pk__in=missing).values_list("pk", "patient_id")) if missing else {}
    closed = [
        c
        for c in closures
        if ReviewFlag.objects.filter(pk=c.flag_id, status=FlagStatus.OPEN).update(
            status=status, resolved_at=now, resolved_by=person, resolution_note=c.note
        )
    ]
    audit.record_many(
        audit.event(
            by,
            CLOSE_ACTIONS[status],
            object_type=FLAG_TYPE,
            object_id=str(c.flag_id),
            patient_id=c.patient_id or patients.get(c.referral_id),
            changes={"rule": c.rule, "why": c.note, **c.changes},
            at=now,
        )
        for c in closed
    )
    ReferralEvent.objects.bulk_create(
        ReferralEvent(
            referral_id=c.referral_id,
            kind=ReferralEvent.Kind.FLAG_CLOSED,
            to_value=f"{FlagRule(c.rule).label}: {FlagStatus(status).label.lower()}",
            note=c.note,
            by=person,
        )
        for c in closed
    )
    return closed


def decide(*, referral, action, by, source, reason, step=None, end_code=None, on=None, flag=None):
    """Carry out a stepped-care decision on a locked referral: ``"step"`` moves it to ``step``,
    ``"discharge"`` steps it out with ``end_code``. Flag resolution and supervision decisions both act
    through here (and through ``change_step`` and ``discharge`` beneath it). Returns the step
    assignment, or the discharged referral."""
    if action == "step":
        return change_step(referral=referral, step=step, reason=reason, by=by, source=source, flag=flag, on=on)
    if action == "discharge":
        if not end_code:
            raise ValidationError({"end_code": "Choose the referral end code for the discharge."})
        return discharge(referral=referral, end_code=end_code, by=by, discharged_on=on, note=reason, source=source)
    raise ValueError(f"unknown decision {action!r}")


RESOLVE_ACTIONS = ("accept", "dismiss")


@transaction.atomic
def resolve_flag(*, flag, action, by, reason="", end_code=None, step=None):
    """A clinician on the case accepts or dismisses an open flag (supervision answers flags through its
    own decisions). Accepting a step-up or step-down changes the step (the step form's service, with
    this flag as its source); accepting a step-out discharges with an end code; dismissing needs a
    reason. Audited."""
    permissions.require(by, "resolve_flag", flag.referral)
    reason = (reason or "").strip()
    referral = lock_referral(flag.referral)
    flag = ReviewFlag.objects.select_for_update().get(pk=flag.pk)
    if flag.status != FlagStatus.OPEN:
        raise Conflict(f"This flag is already {flag.get_status_display().lower()}; reload the page.")
    errors = {}
    if action not in RESOLVE_ACTIONS:
        errors["action"] = "Choose accept or dismiss."
    elif action == "dismiss" and not reason:
        errors["reason"] = "Say why the flag is dismissed."
    elif flag.rule == review.RISK and not reason:
        # Only a clinician's recorded risk review closes a risk flag: who and when are recorded with it.
        errors["reason"] = "Record the risk review: what was assessed and what was decided."
    if errors:
        raise ValidationError(errors)
    changes = {"recommendation": flag.recommendation, "action": action, "reason": reason}
    if action == "accept" and flag.recommendation in (Recommendation.STEP_UP, Recommendation.STEP_DOWN):
        if referral.current_step is None:
            raise ValidationError({"step": "The referral has no step yet: assign its first step from the referral."})
        default = referral.current_step + (1 if flag.recommendation == Recommendation.STEP_UP else -1)
        target = step or default
        if target not in Step.values:
            raise ValidationError({"step": f"There is no step {target}; choose a step from 1 to 5."})
        from_step = referral.current_step
        assignment = decide(
            referral=referral,
            action="step",
            step=target,
            reason=reason or f"{flag.get_recommendation_display()}: {flag.explanation}",
            by=by,
            source=StepSource.REVIEW_FLAG,
            flag=flag,
        )
        changes |= {"from_step": from_step, "to_step": assignment.step}
    status = FlagStatus.ACCEPTED if action == "accept" else FlagStatus.DISMISSED
    close_flags([closure(flag, reason or flag.explanation, **changes)], status=status, by=by)
    if action == "accept" and flag.recommendation == Recommendation.STEP_OUT:
        decide(
            referral=referral,
            action="discharge",
            end_code=end_code,
            by=by,
            source=StepSource.REVIEW_FLAG,
            reason=reason or flag.explanation,
        )
    elif "to_step" not in changes:
        queue_review(referral.pk)  # a step change queues its own review; a discharge ends them
    flag.refresh_from_db()
    return flag
