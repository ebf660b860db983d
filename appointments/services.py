"""Appointments' use cases: book, reschedule, cancel. Each asks the rulebook first."""

from datetime import timedelta

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from common.permissions import require

from .models import Appointment
from .rules import LENGTHS


class Clash(ValidationError):
    """The clinician already has a live appointment at that time (409 in the API)."""


def _check_free(clinician, starts_at, ends_at, exclude=None):
    live = Appointment.objects.filter(clinician=clinician, starts_at__lt=ends_at, ends_at__gt=starts_at).exclude(
        status=Appointment.Status.CANCELLED
    )
    if exclude is not None:
        live = live.exclude(pk=exclude.pk)
    if live.exists():
        raise Clash({"starts_at": "The clinician already has an appointment at that time."})


@transaction.atomic
def book(*, referral, clinician, starts_at, appointment_type, by, minutes=None, mechanism="01"):
    require(by, "book_appointment", referral)
    if clinician.team_id != referral.team_id:
        raise ValidationError({"clinician": "The clinician must work in the referral's team."})
    kind = "assessment" if appointment_type == "01" else "treatment"
    ends_at = starts_at + timedelta(minutes=minutes or LENGTHS[kind])
    _check_free(clinician, starts_at, ends_at)
    try:
        with transaction.atomic():
            return Appointment.objects.create(
                referral=referral,
                clinician=clinician,
                starts_at=starts_at,
                ends_at=ends_at,
                appointment_type=appointment_type,
                mechanism=mechanism,
                created_by=by,
            )
    except IntegrityError as exc:  # the exclusion constraint: a booking made between check and insert
        raise Clash({"starts_at": "The clinician already has an appointment at that time."}) from exc


@transaction.atomic
def cancel(*, appointment, reason, by, note="", version=None):
    require(by, "cancel_appointment", appointment.referral)
    if reason not in Appointment.CancelReason.values:
        raise ValidationError({"reason": "Say who cancelled: the patient or the provider."})
    updated = Appointment.objects.filter(
        pk=appointment.pk, status=Appointment.Status.BOOKED, version=version or appointment.version
    ).update(
        status=Appointment.Status.CANCELLED, cancel_reason=reason, cancel_note=note, version=appointment.version + 1
    )
    if not updated:
        raise Clash({"version": "The appointment changed since you opened it."})
    appointment.refresh_from_db()
    return appointment


@transaction.atomic
def reschedule(*, appointment, starts_at, by):
    require(by, "book_appointment", appointment.referral)
    minutes = int((appointment.ends_at - appointment.starts_at).total_seconds() // 60)
    cancel(appointment=appointment, reason=Appointment.CancelReason.RESCHEDULED, by=by)
    return book(
        referral=appointment.referral,
        clinician=appointment.clinician,
        starts_at=starts_at,
        appointment_type=appointment.appointment_type,
        mechanism=appointment.mechanism,
        minutes=minutes,
        by=by,
    )
