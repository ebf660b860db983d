"""Stepped-care writes: changing a referral's step. One function per use case, each audited."""

import datetime as dt

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from . import audit
from .exceptions import Conflict
from .models import Step, StepAssignment, StepSource


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
    """Move a referral to another step (or assign its first): end the open step, open the new one."""
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
    return assignment


def review_referral(referral_id):
    """Run the review rules for one referral and raise or clear its flags (see review.py)."""
    return None
