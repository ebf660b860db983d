"""Clinical writes on patients, referrals and contacts: one function per use case, each in one
transaction, each audited. The HTML views and the API both call these."""

import re
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from common import audit, permissions
from common import plausibility as plausible
from common.exceptions import Conflict
from outcomes import problems as icd10
from outcomes.scoring import GAD7, INSTRUMENTS, PHQ9, RISK_ITEM, WSAS, ScoringError, score
from outcomes.services import record_questionnaire, refresh_summary
from stepped_care.services import bump_version, lock_referral, queue_review, raise_risk_flag

from .codes import (
    ATTENDED_CODES,
    TREATMENT_TYPES,
    AppointmentType,
    Attendance,
    Mechanism,
    ReferralSource,
    ReferralStatus,
    Significance,
    TherapyMode,
)
from .models import (
    CareContact,
    Patient,
    PatientRegistration,
    PresentingProblemRecord,
    Referral,
    ReferralEvent,
    SessionDraft,
)
from .validators import normalise_nhs_number

QUESTIONNAIRE_FIELDS = {"phq9": PHQ9, "gad7": GAD7, "wsas": WSAS}


# Plausibility of a patient's details (common/plausibility.py): field → its rule.
PATIENT_TEXT_RULES = {
    "given_name": lambda v: plausible.name_problem(v),
    "family_name": lambda v: plausible.name_problem(v),
    "phone": lambda v: plausible.text_problem(v, max_length=30),
    "postcode": lambda v: plausible.text_problem(v, max_length=10),
    "gp_practice": lambda v: plausible.text_problem(v, max_length=200),
    "address": lambda v: plausible.text_problem(v, max_length=plausible.ADDRESS_MAX, multiline=True),
    "email": lambda v: plausible.text_problem(v, max_length=254),
}


def _implausible_patient_details(fields):
    """Errors by field for details no real patient has (a date of birth in year 1, a name that is only a
    zero-width space, a terminal escape code, ten thousand long-term conditions)."""
    errors = {}
    for field, rule in PATIENT_TEXT_RULES.items():
        problem = rule(fields.get(field)) if field in fields else None
        if problem:
            errors[field] = problem
    if "date_of_birth" in fields:
        problem = plausible.date_of_birth_problem(fields["date_of_birth"], timezone.localdate())
        if problem:
            errors["date_of_birth"] = problem
    if "long_term_conditions" in fields:
        conditions = fields["long_term_conditions"]
        problem = (
            plausible.list_problem(conditions, max_items=plausible.MAX_LONG_TERM_CONDITIONS)
            if isinstance(conditions, list | tuple)
            else "Give a list of condition codes."
        )
        if problem:
            errors["long_term_conditions"] = problem
    return errors


@transaction.atomic
def create_patient(*, by, team=None, **fields):
    team = team or by.team
    permissions.require(by, "register_patient", team)
    errors = _implausible_patient_details(fields)
    if errors:
        raise ValidationError(errors)
    if fields.get("nhs_number"):
        fields["nhs_number"] = normalise_nhs_number(fields["nhs_number"])
    else:
        fields["nhs_number"] = None
    patient = Patient(team=team, **fields)
    patient.full_clean()
    patient.save()
    audit.record(by, "patient.create", patient, patient_id=patient.pk)
    return patient


CHECK_DETAILS = "Check the NHS number and date of birth."


class PatientDetailsMismatch(ValidationError):
    """The NHS number is held, with another date of birth. Says only to check both: nothing of whom the
    number belongs to, or where they are known (issue 20.4)."""

    def __init__(self):
        super().__init__({"nhs_number": CHECK_DETAILS})


class AlreadyRegistered(Conflict):
    """The person is already registered with the user's own team: the form offers their record instead."""

    code = "patient_already_registered"

    def __init__(self, patient, *, visible):
        self.patient = patient
        self.visible = visible
        super().__init__(
            "A patient with this NHS number is already registered with your team"
            + (
                ": open their record rather than registering them again."
                if visible
                else ", on a colleague's caseload: ask them or your team's manager."
            )
        )

    @property
    def extra(self):
        return {"patient": str(self.patient.pk)} if self.visible else {}


@transaction.atomic
def find_or_register_patient(nhs_number, date_of_birth, *, by, team=None, refuse_team_duplicate=False, **details):
    """The person behind a registration: (patient, created). The one place that matches NHS numbers.

    - no NHS number, or one nobody holds: a new patient of ``team`` (the user's), created=True;
    - an NHS number held with the same date of birth: that person (the person is the service's,
      referrals are the team's), registered with this team if another team registered them first,
      created=False; their details as held are kept, nothing of another team's care is touched;
    - an NHS number held with another date of birth: ``PatientDetailsMismatch`` ("Check the NHS number
      and date of birth"), whoever holds it;
    - ``refuse_team_duplicate``: a person already registered with this team raises ``AlreadyRegistered``
      (the staff form offers their record; a self-referral just gets a new referral for them).
    """
    team = team or by.team
    permissions.require(by, "register_patient", team)
    number = normalise_nhs_number(nhs_number) if nhs_number else None
    existing = Patient.objects.select_for_update().filter(nhs_number=number).first() if number else None
    if existing is None:
        try:
            with transaction.atomic():
                return create_patient(by=by, team=team, nhs_number=number, date_of_birth=date_of_birth, **details), True
        except IntegrityError:  # registered at this moment by someone else: match against theirs
            existing = Patient.objects.select_for_update().filter(nhs_number=number).first()
            if existing is None:
                raise
    return _match_existing(existing, date_of_birth, by=by, team=team, refuse_team_duplicate=refuse_team_duplicate)


def _match_existing(existing, date_of_birth, *, by, team, refuse_team_duplicate):
    if existing.date_of_birth != date_of_birth:
        raise PatientDetailsMismatch()
    already = existing.team_id == team.pk or existing.registrations.filter(team=team).exists()
    if already:
        if refuse_team_duplicate:
            raise AlreadyRegistered(existing, visible=permissions.sees(by, existing))
        return existing, False
    PatientRegistration.objects.create(patient=existing, team=team, registered_by=by)
    audit.record(by, "patient.link", existing, patient_id=existing.pk, changes={"team": team.pk})
    return existing, False


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
    errors = _implausible_patient_details(changes)
    if errors:
        raise ValidationError(errors)
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
def create_referral(
    *,
    by,
    patient,
    received_on,
    source,
    presenting_problem=None,
    presenting_problem_code=None,
    care_coordinator=None,
    ltc_pathway=False,
):
    """Record a referral with its presenting problem: an ICD-10 code when one is known (its problem
    descriptor follows), else the problem descriptor, kept as a first record with that problem's
    "unspecified" code (DOMAIN.md §9)."""
    permissions.require(by, "register_referral", patient)
    return _record_referral(
        by=by,
        patient=patient,
        received_on=received_on,
        source=source,
        presenting_problem=presenting_problem,
        presenting_problem_code=presenting_problem_code,
        care_coordinator=care_coordinator,
        ltc_pathway=ltc_pathway,
    )


def _person(by):
    """The member of staff who acted, or None for a ``SystemActor`` (the public self-referral form)."""
    return by if getattr(by, "is_authenticated", False) else None


def _record_referral(
    *,
    by,
    patient,
    team=None,
    received_on,
    source,
    presenting_problem,
    presenting_problem_code,
    care_coordinator,
    ltc_pathway,
):
    errors = {}
    code = icd10.normalise(presenting_problem_code) if presenting_problem_code else ""
    if presenting_problem_code and code not in icd10.ICD10:
        errors["presenting_problem_code"] = _unknown_code(presenting_problem_code)
    elif code:
        derived = icd10.descriptor(code)
        if presenting_problem and presenting_problem != derived:
            given = icd10.DESCRIPTORS.get(presenting_problem, str(presenting_problem)).lower()
            errors["presenting_problem_code"] = (
                f"{code} is {icd10.DESCRIPTORS[derived].lower()}, not {given}: give one or make them agree."
            )
        presenting_problem = derived
    elif not presenting_problem:
        errors["presenting_problem"] = "Give the presenting problem (or its ICD-10 code)."
    elif presenting_problem not in icd10.DESCRIPTORS:
        errors["presenting_problem"] = f"Unknown presenting problem {presenting_problem!r}."
    else:
        code = icd10.UNSPECIFIED[presenting_problem]
    # The referral is the team's (the user's, or the front door's); the person may be known to others.
    team_id = team.pk if team is not None else by.team_id
    referral = Referral(
        patient=patient,
        team_id=team_id,
        received_on=received_on,
        source=source,
        presenting_problem=presenting_problem,
        care_coordinator=care_coordinator,
        ltc_pathway=ltc_pathway,
    )
    received_problem = plausible.referral_received_problem(received_on, timezone.localdate())
    if received_problem:
        errors["received_on"] = received_problem
    if care_coordinator is not None and (care_coordinator.team_id != team_id or not care_coordinator.is_clinician):
        errors["care_coordinator"] = "The care coordinator must be a clinician of your team."
    elif care_coordinator is not None and not permissions.may(by, "allocate"):
        errors["care_coordinator"] = (
            "Only clinicians and managers allocate: leave the care coordinator empty for the waiting list."
        )
    if errors:
        raise ValidationError(errors)
    referral.full_clean()
    referral.save()
    ReferralEvent.objects.create(
        referral=referral, kind=ReferralEvent.Kind.CREATED, by=_person(by), to_value=referral.get_status_display()
    )
    if care_coordinator is not None:
        ReferralEvent.objects.create(
            referral=referral, kind=ReferralEvent.Kind.ALLOCATED, by=by, to_value=str(care_coordinator)
        )
    PresentingProblemRecord.objects.create(
        referral=referral,
        code=code,
        problem=presenting_problem,
        significance=Significance.PRIMARY,
        recorded_on=received_on,
        created_by=_person(by),
    )
    refresh_summary(referral)
    audit.record(by, "referral.create", referral, patient_id=patient.pk)
    return referral


# --- the public front door (frontdoor.services): no member of staff acts, a named SystemActor does ----


@transaction.atomic
def find_or_register_self_referrer(nhs_number, date_of_birth, *, team, by, **details):
    """The person with this NHS number and date of birth, or a new patient of ``team`` with ``details``:
    ``(patient, created)``. For doors where the person themselves gives the details (the self-referral
    form): it tells the caller, never the person, whether a record matched. As at the staff door, the
    person is the service's: a match held by another team is linked to ``team`` (a registration) and
    nothing of that team's care is touched. An NHS number already held with another date of birth is not
    linked and not stored: the new record goes without it, for staff to reconcile (``created`` is True,
    ``patient.nhs_number`` None)."""
    number = normalise_nhs_number(nhs_number) if nhs_number else None
    if number:
        existing = Patient.objects.select_for_update().filter(nhs_number=number).first()
        if existing is not None and existing.date_of_birth == date_of_birth:
            if existing.team_id != team.pk and not existing.registrations.filter(team=team).exists():
                PatientRegistration.objects.create(patient=existing, team=team, registered_by=None)
                audit.record(by, "patient.link", existing, patient_id=existing.pk, changes={"team": team.pk})
            return existing, False
        if existing is not None:
            number = None
    errors = _implausible_patient_details({**details, "date_of_birth": date_of_birth})
    if errors:
        raise ValidationError(errors)
    patient = Patient(team=team, nhs_number=number, date_of_birth=date_of_birth, **details)
    patient.full_clean()
    patient.save()
    audit.record(by, "patient.create", patient, patient_id=patient.pk)
    return patient, True


@transaction.atomic
def create_self_referral(*, patient, team, received_on, presenting_problem, by):
    """A referral the person made themselves (source "self", data set code B1), on ``team``'s waiting
    list. ``by`` is the front door's SystemActor; the front door has checked its own rules."""
    return _record_referral(
        by=by,
        team=team,
        patient=patient,
        received_on=received_on,
        source=ReferralSource.SELF,
        presenting_problem=presenting_problem,
        presenting_problem_code=None,
        care_coordinator=None,
        ltc_pathway=False,
    )


def _unknown_code(code):
    return (
        f"{str(code)[:20]!r} is not an ICD-10 code of the Talking Therapies problem-descriptor list "
        "(depression F32.x/F33.x, anxiety disorders F40.x-F43.x, health anxiety F45.2)."
    )


@transaction.atomic
def record_presenting_problem(*, referral, code, significance, recorded_on, by, expected_version=None):
    """Add a presenting problem (IDS603) to the referral's history. The latest primary decides its
    problem descriptor and its anxiety measure, so the outcome summary is refreshed with it."""
    permissions.require(by, "record_problem", referral)  # a diagnosis: clinicians on the case
    referral = lock_referral(referral, expected_version)
    errors = {}
    normalised = icd10.normalise(code)
    if not code:
        errors["code"] = "Give the ICD-10 code of the presenting problem."
    elif normalised not in icd10.ICD10:
        errors["code"] = _unknown_code(code)
    if significance not in Significance.values:
        errors["significance"] = "Say whether the problem is primary or secondary."
    if recorded_on is None:
        errors["recorded_on"] = "Give the date the problem was recorded."
    elif recorded_on < referral.received_on:
        errors["recorded_on"] = (
            "A presenting problem cannot be recorded before the referral was received "
            f"({referral.received_on:%d %b %Y})."
        )
    elif recorded_on > timezone.localdate():
        errors["recorded_on"] = "A presenting problem cannot be recorded with a future date."
    if errors:
        raise ValidationError(errors)
    record = PresentingProblemRecord.objects.create(
        referral=referral,
        code=normalised,
        problem=icd10.descriptor(normalised),
        significance=significance,
        recorded_on=recorded_on,
        created_by=by,
    )
    deciding = icd10.deciding(
        icd10.ProblemRecord(r.code, r.significance, r.recorded_on, r.created_at, r.problem)
        for r in referral.presenting_problems.all()
    )
    changed = ["presenting_problem"] if deciding.descriptor != referral.presenting_problem else []
    referral.presenting_problem = deciding.descriptor
    bump_version(referral, *changed)
    refresh_summary(referral)
    audit.record(
        by,
        "referral.presenting_problem",
        record,
        patient_id=referral.patient_id,
        changes={"code": normalised, "significance": significance, "recorded_on": recorded_on},
    )
    queue_review(referral.pk)
    return record


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


class DuplicateContact(Conflict):
    """A contact of the same type on the same date is already recorded for the referral: asked, not
    saved, unless the caller confirms (``confirm_duplicate``). Save, Back, Save made a second, empty
    "attended treatment" contact that counted in sessions attended, the review rules and national counts."""

    code = "duplicate_contact"

    def __init__(self, existing):
        self.existing = existing
        kind = existing.get_appointment_type_display().lower()
        article = "An" if kind[0] in "aeiou" else "A"
        super().__init__(
            f"{article} {kind} contact on {existing.date:%-d %b %Y} already exists for this referral "
            f"({existing.get_attendance_display().lower()}): save another?"
        )

    @property
    def extra(self):
        contact = self.existing
        return {
            "existing_contact": {
                "id": str(contact.pk),
                "date": contact.date.isoformat(),
                "appointment_type": contact.appointment_type,
                "attendance": contact.attendance,
            },
            "confirm_with": "confirm_duplicate",
        }


def same_contact(referral, date, appointment_type):
    """The valid contact of this type on this date already recorded for the referral, if any."""
    return (
        CareContact.objects.filter(referral=referral, date=date, appointment_type=appointment_type)
        .valid()
        .order_by("created_at")
        .first()
    )


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
    therapy_type=None,
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
    questionnaires=None,
    expected_version=None,
    confirm_duplicate=False,
):
    """Record a session with its questionnaires, move the referral's status on, refresh its outcome
    summary and queue its review. All or nothing: any error leaves no trace.

    Questionnaires come as ``phq9`` / ``gad7`` / ``wsas`` answer lists, or as ``questionnaires``: a list of
    ``{"measure": code, "items": [...]}`` (``{"measure": code, "score": n}`` for a measure recorded as a
    score) with the codes of the measures table. Errors name the field: ``questionnaires[1].items``.
    A second contact of the same type on the same date raises ``DuplicateContact`` unless
    ``confirm_duplicate`` (the web form asks; the API answers 409 naming the first)."""
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
    for field, text in (("notes", notes), ("homework", homework), ("risk_note", risk_note)):
        problem = plausible.text_problem(text, max_length=plausible.NOTE_MAX, multiline=True)
        if problem:
            errors[field] = problem
    attended = attendance in ATTENDED_CODES
    scored = {}  # measure -> Score
    fields = {}  # measure -> the field it came in, for the audit trail and error messages
    for field, measure in QUESTIONNAIRE_FIELDS.items():
        if answers[field] in (None, []):
            continue
        if not attended:
            errors[field] = "Questionnaires can only be recorded at a contact the patient attended."
            continue
        try:
            scored[measure] = score(measure, answers[field])
            fields[measure] = field
        except ScoringError as exc:
            errors[field] = exc.message
    for index, entry in enumerate(_questionnaire_entries(questionnaires, errors)):
        here = f"questionnaires[{index}]"
        if not isinstance(entry, dict):
            errors[here] = "Give each questionnaire as an object with its measure and items."
            continue
        measure = entry.get("measure")
        if not isinstance(measure, str) or measure not in INSTRUMENTS:
            errors[f"{here}.measure"] = (
                f"Unknown measure {str(measure)[:20]!r}: use a code of the measures table ({', '.join(INSTRUMENTS)})."
            )
            continue
        if not attended:
            errors[here] = "Questionnaires can only be recorded at a contact the patient attended."
            continue
        name = INSTRUMENTS[measure].name
        if measure in fields:
            errors[f"{here}.measure"] = f"{name} is given twice for this contact ({fields[measure]} and {here})."
            continue
        has_items = INSTRUMENTS[measure].has_items
        try:
            scored[measure] = score(measure, entry.get("items"), total=None if has_items else entry.get("score"))
            fields[measure] = here
        except ScoringError as exc:
            errors[f"{here}.{'items' if has_items else 'score'}"] = exc.message
    phq = scored.get(PHQ9)
    if phq is not None and phq.risk and not (risk_note or "").strip():
        errors["risk_note"] = f"PHQ-9 item {RISK_ITEM} is above 0: record the risk assessment before saving."
    if errors:
        raise ValidationError(errors)
    if not confirm_duplicate:
        existing = same_contact(referral, date, appointment_type)
        if existing is not None:
            raise DuplicateContact(existing)
    contact = CareContact(
        referral=referral,
        clinician=clinician,
        date=date,
        time=time,
        appointment_type=appointment_type,
        attendance=attendance,
        mechanism=mechanism,
        therapy_mode=therapy_mode,
        therapy_type=therapy_type or None,
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
    for measure, result in scored.items():
        if result.items:
            record_questionnaire(contact=contact, measure=measure, answers=result.items, by=by)
        else:
            record_questionnaire(contact=contact, measure=measure, total=result.total, by=by)
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
            **{m.lower(): s.total for m, s in scored.items()},
        },
    )
    if phq is not None and phq.risk:
        raise_risk_flag(referral)  # in this transaction: a safety signal never waits for the broker
    queue_review(referral.pk)
    return contact


def _questionnaire_entries(questionnaires, errors):
    if questionnaires in (None, []):
        return []
    if not isinstance(questionnaires, (list, tuple)):
        errors["questionnaires"] = "Give a list of questionnaires, each with its measure and items."
        return []
    return questionnaires


@transaction.atomic
def mark_contact_in_error(*, contact, reason, by):
    """Correction, not edit: the contact and its questionnaires stay, marked entered in error."""
    permissions.require(by, "mark_in_error", contact.referral)
    if not (reason or "").strip():
        raise ValidationError({"reason": "Say why the contact was entered in error."})
    problem = plausible.text_problem(reason, max_length=plausible.REASON_MAX, multiline=True)
    if problem:
        raise ValidationError({"reason": problem})
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


# --- unsaved session drafts (issue 20.2) -------------------------------------------------------------

DRAFT_FIELD = re.compile(r"[a-z][a-z0-9_]{0,39}")
DRAFT_MAX_FIELDS = 300
DRAFT_SKIPPED = frozenset({"csrfmiddlewaretoken", "form_token", "add_measure", "confirm_duplicate"})


def _draft_expiry(now):
    return now + timedelta(days=settings.SESSION_DRAFT_DAYS)


def _draft_fields(posted):
    """The session form's fields as typed (name → values), without tokens; refuses what no form sends."""
    fields = {}
    for name, values in posted.items():
        if name in DRAFT_SKIPPED:
            continue
        if not DRAFT_FIELD.fullmatch(name) or len(fields) >= DRAFT_MAX_FIELDS:
            raise ValidationError({"draft": "This is not a session form's draft."})
        values = [str(v) for v in values][:20]
        if any(len(v) > plausible.NOTE_MAX for v in values):
            raise ValidationError({"draft": f"A field of the draft is longer than {plausible.NOTE_MAX} characters."})
        fields[name] = values
    return fields


@transaction.atomic
def save_session_draft(*, referral, by, posted):
    """Keep what ``by`` has typed into the session form of ``referral`` (``posted``: name → list of values),
    replacing their previous draft. Only who may log the session keeps a draft of it."""
    permissions.require(by, "record_care", referral)
    fields = _draft_fields(posted)
    now = timezone.now()
    draft, created = SessionDraft.objects.update_or_create(
        author=by, referral=referral, defaults={"fields": fields, "saved_at": now, "expires_at": _draft_expiry(now)}
    )
    if created:  # the first keep is audited; the half-minute updates of the same draft are not repeated
        audit.record(by, "draft.save", draft, patient_id=referral.patient_id)
    return draft


# Reading and discarding touch the author's own draft only (nothing of anyone else's to authorise); the
# caller found the referral with ``visible_to(author)``: one they can no longer see keeps its draft out
# of reach until it expires.


def session_draft(*, referral, author):
    """The author's unexpired draft of this referral's session form, or None."""
    return SessionDraft.objects.filter(author=author, referral=referral, expires_at__gt=timezone.now()).first()


@transaction.atomic
def restored_session_draft(*, referral, author):
    """The draft to restore into the form being opened (audited), or None."""
    draft = session_draft(referral=referral, author=author)
    if draft is not None:
        audit.record(author, "draft.restore", draft, patient_id=referral.patient_id)
    return draft


@transaction.atomic
def discard_session_draft(*, referral, author, reason="discard"):
    """Delete the author's draft: discarded by them, or saved as a session (``reason="saved"``)."""
    deleted, _ = SessionDraft.objects.filter(author=author, referral=referral).delete()
    if deleted and reason == "discard":
        audit.record(author, "draft.discard", referral, patient_id=referral.patient_id)
    return bool(deleted)


def purge_expired_session_drafts(now=None):
    deleted, _ = SessionDraft.objects.filter(expires_at__lte=now or timezone.now()).delete()
    return deleted
