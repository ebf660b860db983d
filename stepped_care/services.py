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

from common import audit, permissions
from common.exceptions import Conflict
from common.models import AuditEvent
from common.standards import standards

from . import review
from .models import FlagStatus, Recommendation, ReviewFlag, Step, StepAssignment, StepSource


def lock_referral(referral, expected_version=None):
    """Lock the referral row for this transaction; refuse a caller holding a stale version."""
    from referrals.models import Referral

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
    if isinstance(on, dt.date) and on < referral.received_on:
        errors["started_on"] = "A step cannot start before the referral was received."
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
    _queue_review(referral.pk)  # the step is one of the review rules' inputs
    return assignment


def _queue_review(referral_id):
    from referrals.services import queue_review

    queue_review(referral_id)


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


def _flag_state(rows, wanted):
    """{referral id: ({rule: (open flag id, digest)}, {(rule, episode) a clinician resolved})}."""
    state = {}
    for pk, rid, rule, status, episode, digest in rows:
        if rid not in wanted:
            continue
        opened, resolved = state.setdefault(rid, ({}, set()))
        if status == FlagStatus.OPEN:
            opened[rule] = (pk, digest)
        else:
            resolved.add((rule, episode))
    return state


def _read(referral_ids):
    """Everything the rules need about these referrals (sorted ids), in a fixed number of queries."""
    from . import queries

    wanted = set(referral_ids)
    referrals = [r for r in queries.referral_rows(referral_ids) if r[0] in wanted]
    params = queries.team_parameters(r[1] for r in referrals)
    supervised = queries.last_supervision_discussions(referral_ids)
    contacts = {}
    for rid, rows in groupby(queries.contact_rows(referral_ids), key=itemgetter(6)):
        if rid in wanted:
            contacts[rid] = list(rows)
    flags = _flag_state(queries.flag_rows(referral_ids), wanted)
    return referrals, params, supervised, contacts, flags


def _evaluate(read, today, rules=None):
    """Evaluate the rules on what ``_read`` returned and compare with the flags: the differences."""
    referrals, params, supervised, contacts, flags = read
    outcome = ReviewOutcome()
    mixed = standards()["mixed_reliable_change"]
    params = {tid: team_review_parameters(p) for tid, p in params.items()}
    for rid, team_id, patient_id, status, received_on, step, step_on, version in referrals:
        history = review.History(status, received_on, step, step_on, contacts.get(rid, ()), supervised.get(rid))
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
        for rule, (flag_id, _) in opened.items():
            if rule in found_rules or (rules is not None and rule not in rules):
                continue
            outcome.cleared.append((rid, flag_id, rule, review.clear_reason(rule, history, today, team_params)))
    outcome.unchanged = outcome.reviewed - len(outcome.touched())
    return outcome


def _plan(referral_ids, today, rules=None):
    """Read the histories, evaluate the rules and compare with the flags: the differences to write."""
    from . import queries

    referral_ids = queries.sorted_ids(referral_ids)
    if not referral_ids:
        return ReviewOutcome()
    return _evaluate(_read(referral_ids), today, rules)


def _audit_rows(outcome, now):
    rows = []
    address = audit.client_address.get()

    def event(action, flag_id, rid, changes):
        rows.append(
            AuditEvent(
                at=now,
                actor=None,
                action=action,
                object_type="stepped_care.reviewflag",
                object_id=str(flag_id),
                patient_id=outcome.patients.get(rid),
                client_address=address,
                changes=audit._jsonable(changes),
            )
        )

    return rows, event


def _apply(outcome):
    """Write the differences: new flags in one insert, changed ones updated, cleared ones closed. Every
    change leaves an audit event (actor: the review engine)."""
    now = timezone.now()
    rows, event = _audit_rows(outcome, now)
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
    for rid, flag_id, rule, reason in outcome.cleared:
        ReviewFlag.objects.filter(pk=flag_id, status=FlagStatus.OPEN).update(
            status=FlagStatus.CLEARED, resolved_at=now, resolution_note=reason
        )
        event("flag.clear", flag_id, rid, {"rule": rule, "why": reason})
    AuditEvent.objects.bulk_create(rows, batch_size=1000)


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
    from . import queries

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
    from . import queries

    ids = queries.active_referral_ids(team_id)
    total = ReviewOutcome()
    for start in range(0, len(ids), chunk_size):
        total.add(review_referrals(ids[start : start + chunk_size], today=today, dry_run=dry_run))
    return total


def chunks(ids, size):
    return [[str(i) for i in ids[start : start + size]] for start in range(0, len(ids), size)]


RESOLVE_ACTIONS = ("accept", "dismiss")


@transaction.atomic
def resolve_flag(*, flag, action, by, reason="", end_code=None, step=None, source="clinician"):
    """A clinician on the case accepts or dismisses an open flag (``source="supervision"``: as a
    supervision decision answering it). Accepting a step-up or step-down changes the step (the step
    form's service, with this flag as its source); accepting a step-out discharges with an end code;
    dismissing needs a reason. Audited."""
    from referrals.services import discharge

    permissions.require(by, "supervision_decision" if source == "supervision" else "resolve_flag", flag.referral)
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
    if errors:
        raise ValidationError(errors)
    changes = {"rule": flag.rule, "recommendation": flag.recommendation, "action": action, "reason": reason}
    flag.status = FlagStatus.ACCEPTED if action == "accept" else FlagStatus.DISMISSED
    flag.resolved_at = timezone.now()
    flag.resolved_by = by
    flag.resolution_note = reason
    flag.save(update_fields=["status", "resolved_at", "resolved_by", "resolution_note"])
    if action == "accept" and flag.recommendation in (Recommendation.STEP_UP, Recommendation.STEP_DOWN):
        if referral.current_step is None:
            raise ValidationError({"step": "The referral has no step yet: assign its first step from the referral."})
        default = referral.current_step + (1 if flag.recommendation == Recommendation.STEP_UP else -1)
        target = step or default
        if target not in Step.values:
            raise ValidationError({"step": f"There is no step {target}; choose a step from 1 to 5."})
        assignment = change_step(
            referral=referral,
            step=target,
            reason=reason or f"{flag.get_recommendation_display()}: {flag.explanation}",
            by=by,
            source=StepSource.REVIEW_FLAG,
            flag=flag,
        )
        changes |= {"from_step": referral.current_step, "to_step": assignment.step}
    elif action == "accept" and flag.recommendation == Recommendation.STEP_OUT:
        if not end_code:
            raise ValidationError({"end_code": "Choose the referral end code for the discharge."})
        discharge(referral=referral, end_code=end_code, by=by, note=reason or flag.explanation)
        changes["end_code"] = end_code
    audit.record(by, f"flag.{action}", flag, patient_id=referral.patient_id, changes=changes)
    if "to_step" not in changes and "end_code" not in changes:
        _queue_review(referral.pk)  # a step change queues its own review; a discharge ends them
    return flag
