"""Clinical writes on patients, referrals and contacts: one function per use case, each in one
transaction, each audited. The HTML views and the API both call these."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from common import audit, permissions
from common.exceptions import Conflict
from outcomes.scoring import GAD7, PHQ9, RISK_ITEM, WSAS, ScoringError, score
from outcomes.services import record_questionnaire, refresh_summary
from stepped_care.services import bump_version, lock_referral, queue_review, raise_risk_flag

from .codes import (
    ATTENDED_CODES,
    TREATMENT_TYPES,
    AppointmentType,
    Attendance,
    Mechanism,
    ReferralStatus,
    TherapyMode,
)
from .models import CareContact, Patient, Referral, ReferralEvent
from .validators import normalise_nhs_number

QUESTIONNAIRE_FIELDS = {"phq9": PHQ9, "gad7": GAD7, "wsas": WSAS}


@transaction.atomic
def create_patient(*, by, team=None, **fields):
    team = team or by.team
    permissions.require(by, "register_patient", team)
    if fields.get("nhs_number"):
        fields["nhs_number"] = normalise_nhs_number(fields["nhs_number"])
    else:
        fields["nhs_number"] = None
    patient = Patient(team=team, **fields)
    dob = fields.get("date_of_birth")
    if dob is not None and dob > timezone.localdate():
        raise ValidationError({"date_of_birth": "A date of birth cannot be in the future."})
    patient.full_clean()
    patient.save()
    audit.record(by, "patient.create", patient, patient_id=patient.pk)
    return patient


PATIENT_EDITABLE_FIELDS = (
    "nhs_number",
    "given_name",
    "family_name",
    "date_of_birth",
    "phone",
    "email",
    "address",
    "postcode",
    "gp_practice",
    "long_term_conditions",
)


@transaction.atomic
def update_patient(*, patient, by, expected_version, **changes):
    """Change a patient's details. Optimistic concurrency: the caller says which version it read, and a
    stale version is refused (Conflict → 409) rather than silently overwriting someone else's change."""
    unknown = set(changes) - set(PATIENT_EDITABLE_FIELDS)
    if unknown:
        raise ValidationError({field: "This field cannot be changed here." for field in sorted(unknown)})
    if expected_version is None:
        raise ValidationError({"version": "Give the version of the record you read."})
    locked = Patient.objects.select_for_update().get(pk=patient.pk)
    permissions.require(by, "update_patient", locked)
    if int(expected_version) != locked.version:
        raise Conflict()
    if "nhs_number" in changes:
        changes["nhs_number"] = normalise_nhs_number(changes["nhs_number"]) if changes["nhs_number"] else None
    changed = sorted(field for field, value in changes.items() if getattr(locked, field) != value)
    if not changed:
        return locked
    for field in changed:
        setattr(locked, field, changes[field])
    locked.full_clean()
    locked.version += 1
    locked.save(update_fields=[*changed, "version"])
    # Field names only: the audit trail says what changed without copying personal details into it.
    audit.record(by, "patient.update", locked, patient_id=locked.pk, changes={"fields": changed})
    return locked


@transaction.atomic
def create_referral(*, by, patient, received_on, source, presenting_problem, care_coordinator=None, ltc_pathway=False):
    permissions.require(by, "register_referral", patient)
    referral = Referral(
        patient=patient,
        team=patient.team,
        received_on=received_on,
        source=source,
        presenting_problem=presenting_problem,
        care_coordinator=care_coordinator,
        ltc_pathway=ltc_pathway,
    )
    errors = {}
    if received_on and received_on > timezone.localdate():
        errors["received_on"] = "A referral cannot be received in the future."
    if care_coordinator is not None and (
        care_coordinator.team_id != patient.team_id or not care_coordinator.is_clinician
    ):
        errors["care_coordinator"] = "The care coordinator must be a clinician of the patient's team."
    elif care_coordinator is not None and not permissions.may(by, "allocate"):
        errors["care_coordinator"] = (
            "Only clinicians and managers allocate: leave the care coordinator empty for the waiting list."
        )
    if errors:
        raise ValidationError(errors)
    referral.full_clean()
    referral.save()
    ReferralEvent.objects.create(
        referral=referral, kind=ReferralEvent.Kind.CREATED, by=by, to_value=referral.get_status_display()
    )
    if care_coordinator is not None:
        ReferralEvent.objects.create(
            referral=referral, kind=ReferralEvent.Kind.ALLOCATED, by=by, to_value=str(care_coordinator)
        )
    refresh_summary(referral)
    audit.record(by, "referral.create", referral, patient_id=patient.pk)
    return referral


@transaction.atomic
def allocate(*, referral, clinician, by, expected_version=None):
    """Make a clinician the referral's care coordinator (from the waiting list or a hand-over)."""
    permissions.require(by, "allocate", referral)
    referral = lock_referral(referral, expected_version)
    if referral.status == ReferralStatus.DISCHARGED:
        raise ValidationError({"care_coordinator": "A discharged referral cannot be allocated."})
    if clinician.team_id != referral.team_id or not clinician.is_clinician:
        raise ValidationError({"care_coordinator": "Allocate to a clinician of the referral's team."})
    previous = referral.care_coordinator
    referral.care_coordinator = clinician
    bump_version(referral, "care_coordinator")
    ReferralEvent.objects.create(
        referral=referral,
        kind=ReferralEvent.Kind.ALLOCATED,
        from_value=str(previous or ""),
        to_value=str(clinician),
        by=by,
    )
    audit.record(
        by,
        "referral.allocate",
        referral,
        patient_id=referral.patient_id,
        changes={"from": previous.pk if previous else None, "to": clinician.pk},
    )
    return referral


@transaction.atomic
def log_contact(
    *,
    referral,
    by,
    date,
    appointment_type,
    attendance,
    clinician=None,
    mechanism=Mechanism.FACE_TO_FACE,
    therapy_mode=TherapyMode.INDIVIDUAL,
    time=None,
    duration_minutes=None,
    notes="",
    homework="",
    risk_note="",
    ltc_service=None,
    group_participants=None,
    group_facilitators=None,
    phq9=None,
    gad7=None,
    wsas=None,
    expected_version=None,
):
    """Record a session with its questionnaires, move the referral's status on, refresh its outcome
    summary and queue its review. All or nothing: any error leaves no trace."""
    permissions.require(by, "record_care", referral)
    referral = lock_referral(referral, expected_version)
    clinician = clinician or by
    answers = {"phq9": phq9, "gad7": gad7, "wsas": wsas}
    errors = {}
    if referral.status == ReferralStatus.DISCHARGED:
        errors["referral"] = "This referral has been discharged; reopen it or make a new referral."
    if date is None:
        errors["date"] = "Give the date of the session."
    elif date < referral.received_on:
        errors["date"] = (
            f"The session date {date:%d %b %Y} is before the referral was received ({referral.received_on:%d %b %Y})."
        )
    elif date > timezone.localdate():
        errors["date"] = "A session cannot be logged for a future date."
    if appointment_type not in AppointmentType.values:
        errors["appointment_type"] = "Choose an appointment type."
    if attendance not in Attendance.values:
        errors["attendance"] = "Choose an attendance outcome."
    attended = attendance in ATTENDED_CODES
    scored = {}
    for field, measure in QUESTIONNAIRE_FIELDS.items():
        if answers[field] in (None, []):
            continue
        if not attended:
            errors[field] = "Questionnaires can only be recorded at a contact the patient attended."
            continue
        try:
            scored[field] = score(measure, answers[field])
        except ScoringError as exc:
            errors[field] = exc.message
    phq = scored.get("phq9")
    if phq is not None and phq.risk and not (risk_note or "").strip():
        errors["risk_note"] = f"PHQ-9 item {RISK_ITEM} is above 0: record the risk assessment before saving."
    if errors:
        raise ValidationError(errors)
    contact = CareContact(
        referral=referral,
        clinician=clinician,
        date=date,
        time=time,
        appointment_type=appointment_type,
        attendance=attendance,
        mechanism=mechanism,
        therapy_mode=therapy_mode,
        duration_minutes=duration_minutes,
        notes=notes or "",
        homework=homework or "",
        risk_note=risk_note or "",
        ltc_service=referral.ltc_pathway if ltc_service is None else ltc_service,
        group_participants=group_participants,
        group_facilitators=group_facilitators,
        created_by=by,
    )
    contact.full_clean(exclude=["referral", "clinician", "created_by"])
    contact.save()
    for field, measure in QUESTIONNAIRE_FIELDS.items():
        if field in scored:
            record_questionnaire(contact=contact, measure=measure, answers=scored[field].items, by=by)
    if attended:
        if appointment_type in TREATMENT_TYPES:
            referral.move_to(ReferralStatus.IN_TREATMENT, by)
        elif referral.status == ReferralStatus.AWAITING_ASSESSMENT:
            referral.move_to(ReferralStatus.AWAITING_TREATMENT, by, note="Assessed")
    bump_version(referral, "status")
    refresh_summary(referral)
    audit.record(
        by,
        "contact.create",
        contact,
        patient_id=referral.patient_id,
        changes={
            "date": date,
            "attendance": attendance,
            "appointment_type": appointment_type,
            **{f: s.total for f, s in scored.items()},
        },
    )
    if phq is not None and phq.risk:
        raise_risk_flag(referral)  # in this transaction: a safety signal never waits for the broker
    queue_review(referral.pk)
    return contact


@transaction.atomic
def mark_contact_in_error(*, contact, reason, by):
    """Correction, not edit: the contact and its questionnaires stay, marked entered in error."""
    permissions.require(by, "mark_in_error", contact.referral)
    if not (reason or "").strip():
        raise ValidationError({"reason": "Say why the contact was entered in error."})
    contact = CareContact.objects.select_for_update().get(pk=contact.pk)
    if contact.entered_in_error:
        raise ValidationError({"reason": "This contact is already marked entered in error."})
    referral = lock_referral(contact.referral)
    contact.entered_in_error = True
    contact.error_reason = reason.strip()
    contact.save(update_fields=["entered_in_error", "error_reason"])
    contact.questionnaires.filter(entered_in_error=False).update(entered_in_error=True, error_reason=reason.strip())
    bump_version(referral)
    refresh_summary(referral)
    audit.record(
        by, "contact.entered_in_error", contact, patient_id=referral.patient_id, changes={"reason": reason.strip()}
    )
    raise_risk_flag(referral)  # the risk flag follows the corrected data now, not when the broker delivers
    queue_review(referral.pk)
    return contact
