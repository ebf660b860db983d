"""The front door's writes: a self-referral, a questionnaire link sent, checked and completed. Each in
one transaction, each audited. Nobody is signed in at the public doors: they act as a named
``SystemActor`` after checking their own conditions (the team's form is open, the link is valid)."""

import datetime as dt
import hashlib
import secrets

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from common import audit, notify, permissions
from common.audit import SystemActor
from outcomes.scoring import INSTRUMENTS, PHQ9, ScoringError, adsm_for, score
from outcomes.services import record_patient_questionnaire, refresh_summary
from referrals.models import Referral
from referrals.queries import deciding_problem
from referrals.services import create_self_referral, find_or_register_self_referrer
from stepped_care.services import queue_review, raise_risk_flag

from . import rules
from .models import GPPractice, QuestionnaireLink, SelfReferral

SELF_REFERRAL_FORM = SystemActor("self-referral form")
QUESTIONNAIRE_LINK = SystemActor("questionnaire link")
LINK_DAYS = 7  # a link works once, within a week
MAX_DATE_CHECKS = 5  # wrong dates of birth before a link stops working
CONTACT_CHANNELS = ("sms", "email", "letter")


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def record_stop(front_door, reason):
    """A submission the form refused or stopped (crisis, not eligible, a bot, bad input): audited with its
    reason only, never what was typed."""
    audit.event(
        SELF_REFERRAL_FORM,
        "frontdoor.stopped",
        object_type="frontdoor.frontdoor",
        object_id=str(front_door.pk),
        changes={"reason": reason},
    ).save()


def _score_all(measures, scores, errors, prefix=""):
    """{measure: Score} for every measure asked; errors by measure for the rest."""
    out = {}
    for measure in measures:
        try:
            out[measure] = score(measure, (scores or {}).get(measure))
        except ScoringError as exc:
            errors[f"{prefix}{measure}"] = exc.message
    return out


def _contact_errors(data):
    errors = {}
    chosen = data.get("contact_by") or []
    if not chosen or any(c not in CONTACT_CHANNELS for c in chosen):
        errors["contact_by"] = "Choose at least one way we may contact you."
    if "sms" in chosen and not data.get("phone"):
        errors["phone"] = "Enter a mobile phone number, or do not choose text message."
    if "email" in chosen and not data.get("email"):
        errors["email"] = "Enter an email address, or do not choose email."
    if "letter" in chosen and not (data.get("address") and data.get("postcode")):
        errors["address"] = "Enter your address and postcode, or do not choose letter."
    return errors


@transaction.atomic
def submit_self_referral(*, front_door, data, today=None):
    """The person's self-referral: their patient record found or made (revealing nothing), a referral from
    "self" on the team's waiting list, their PHQ-9, GAD-7 and ADSM recorded as completed by them, and for
    PHQ-9 item 9 above 0 a risk flag raised now, for same-day triage. All or nothing."""
    today = today or timezone.localdate()
    errors = {}
    if not front_door.is_open:
        errors["front_door"] = "This service is not taking self-referrals online at the moment."
    practice = GPPractice.objects.filter(front_door=front_door, pk=data.get("practice_id")).first()
    dob = data.get("date_of_birth")
    if not isinstance(dob, dt.date):
        errors["date_of_birth"] = "Enter your date of birth."
    else:
        problem = rules.eligibility_problem(
            date_of_birth=dob,
            practice_listed=practice is not None,
            min_age=front_door.min_age,
            max_age=front_door.max_age,
            today=today,
        )
        if problem:
            errors["practice_id" if "GP" in problem else "date_of_birth"] = problem
    help_with = data.get("help_with")
    if help_with not in rules.HELP_WITH_PROBLEM:
        errors["help_with"] = "Choose what you would like help with."
    for field in ("given_name", "family_name"):
        if not (data.get(field) or "").strip():
            errors[field] = "Enter your first name." if field == "given_name" else "Enter your last name."
    errors.update(_contact_errors(data))
    measures = rules.measures_for(help_with)
    scored = _score_all(measures, data.get("scores"), errors)
    if errors:
        raise ValidationError(errors)
    details = {
        key: (data.get(key) or "").strip()
        for key in ("given_name", "family_name", "phone", "email", "address", "postcode")
    }
    patient, created = find_or_register_self_referrer(
        data.get("nhs_number") or None,
        dob,
        team=front_door.team,
        by=SELF_REFERRAL_FORM,
        gp_practice=f"{practice.name} ({practice.ods_code})",
        **details,
    )
    referral = create_self_referral(
        patient=patient,
        team=front_door.team,
        received_on=today,
        presenting_problem=rules.HELP_WITH_PROBLEM[help_with],
        by=SELF_REFERRAL_FORM,
    )
    for measure, result in scored.items():
        record_patient_questionnaire(referral=referral, measure=measure, answers=result.items, completed_on=today)
    chosen = data.get("contact_by") or []
    self_referral = SelfReferral.objects.create(
        referral=referral,
        front_door=front_door,
        practice=practice,
        contact_by_sms="sms" in chosen,
        contact_by_email="email" in chosen,
        contact_by_letter="letter" in chosen,
        help_with=(data.get("help_words") or "").strip()[:2000],
        matched_existing_patient=not created,
        needs_identity_check=bool(data.get("nhs_number")) and created and patient.nhs_number is None,
    )
    refresh_summary(referral)
    risk = scored[PHQ9].risk
    audit.record(
        SELF_REFERRAL_FORM,
        "frontdoor.self_referral",
        referral,
        patient_id=patient.pk,
        changes={"scores": {m.lower(): s.total for m, s in scored.items()}, "risk": risk, "matched": not created},
    )
    if risk:
        raise_risk_flag(referral)  # same-day triage: in this transaction, not after the broker
    queue_review(referral.pk)
    personalisation = {"team": front_door.team.name, "days": str(front_door.response_days)}
    if "sms" in chosen:
        notify.send_sms(details["phone"], "self_referral_received", personalisation, referral=referral)
    elif "email" in chosen:
        notify.send_email(details["email"], "self_referral_received", personalisation, referral=referral)
    return self_referral


# --- questionnaire links ---------------------------------------------------------------------------


def measures_for_referral(referral):
    """What a link asks: PHQ-9, the ADSM the deciding presenting problem calls for (item by item), GAD-7."""
    problem = deciding_problem(referral)
    adsm = adsm_for(problem.code) if problem else None
    extra = []
    if adsm and INSTRUMENTS[adsm].has_items:
        extra = ["MI_ALONE", "MI_ACCOMPANIED"] if adsm == "MI_ALONE" else [adsm]
    return ["PHQ9", "GAD7", *extra]


def new_questionnaire_link(*, referral, channel, created_by):
    """A new one-time link (its row, and the token that is only ever in the message) for the caller to
    send: ``send_questionnaire_link`` here, or an appointment's reminder (``appointments.services``),
    which asks its own rule first."""
    token = secrets.token_urlsafe(32)
    link = QuestionnaireLink.objects.create(
        referral=referral,
        token_hash=hash_token(token),
        measures=measures_for_referral(referral),
        channel=channel,
        created_by=created_by,
        expires_at=timezone.now() + dt.timedelta(days=LINK_DAYS),
    )
    return link, token


@transaction.atomic
def send_questionnaire_link(*, referral, channel, by, url_for):
    """Send the patient a one-time link (``url_for(token)`` makes its address) by text or email. The
    token is random (``secrets.token_urlsafe``) and kept only as its hash."""
    permissions.require(by, "send_questionnaires", referral)
    referral = Referral.objects.select_related("patient", "team").get(pk=referral.pk)
    patient = referral.patient
    if not referral.is_active:
        raise ValidationError({"channel": "This referral has been discharged: no questionnaires can be sent."})
    if channel not in QuestionnaireLink.Channel.values:
        raise ValidationError({"channel": "Choose text message or email."})
    to = patient.phone if channel == "sms" else patient.email
    if not to:
        what = "mobile number" if channel == "sms" else "email address"
        raise ValidationError({"channel": f"The patient's record has no {what}: add it first, or choose the other."})
    link, token = new_questionnaire_link(referral=referral, channel=channel, created_by=by)
    expires = link.expires_at
    personalisation = {
        "team": referral.team.name,
        "link": url_for(token),
        "expires": f"{timezone.localtime(expires):%A %-d %B}",
    }
    send = notify.send_sms if channel == "sms" else notify.send_email
    link.message = send(to, "questionnaire_link", personalisation, referral=referral, by=by)
    link.save(update_fields=["message"])
    audit.record(
        by,
        "questionnaire_link.send",
        link,
        patient_id=patient.pk,
        changes={"channel": channel, "measures": link.measures},
    )
    return link


def link_problem(link, now=None):
    """Why a link no longer works (words for the patient), or None. The same words whatever the cause
    beyond "used" and "expired", so a guessed link learns nothing."""
    now = now or timezone.now()
    if link is None or link.failed_checks >= MAX_DATE_CHECKS or not link.referral.is_active:
        return "This link does not work. Ask your therapist to send you a new one."
    if link.used_at is not None:
        return "You have already completed these questionnaires. Thank you."
    if link.expires_at <= now:
        return "This link has expired. Ask your therapist to send you a new one."
    return None


def _locked_link(token):
    return (
        QuestionnaireLink.objects.select_for_update(of=("self",))
        .select_related("referral")
        .filter(token_hash=hash_token(token or ""))
        .first()
    )


class LinkUnusable(Exception):
    def __init__(self, message):
        super().__init__(message)
        self.message = message


@transaction.atomic
def check_date_of_birth(*, token, date_of_birth):
    """The patient confirms their date of birth: True when it matches. Wrong answers are counted and,
    after ``MAX_DATE_CHECKS``, the link stops working."""
    link = _locked_link(token)
    problem = link_problem(link)
    if problem:
        raise LinkUnusable(problem)
    patient_id = link.referral.patient_id
    matches = date_of_birth is not None and link.referral.patient.date_of_birth == date_of_birth
    if matches:
        link.verified_at = timezone.now()
        link.save(update_fields=["verified_at"])
    else:
        link.failed_checks += 1
        link.save(update_fields=["failed_checks"])
    audit.record(
        QUESTIONNAIRE_LINK,
        "questionnaire_link.verified" if matches else "questionnaire_link.check_failed",
        link,
        patient_id=patient_id,
    )
    return matches


@transaction.atomic
def complete_questionnaires(*, token, scores, today=None):
    """Record the questionnaires of a verified link as completed by the patient today; the link is then
    used. Bad answers save nothing. Returns the responses and whether PHQ-9 item 9 is above 0 (the risk
    flag is then raised at once)."""
    today = today or timezone.localdate()
    link = _locked_link(token)
    problem = link_problem(link)
    if problem:
        raise LinkUnusable(problem)
    if link.verified_at is None:
        raise LinkUnusable("Confirm your date of birth first.")
    errors = {}
    scored = _score_all(link.measures, scores, errors)
    if errors:
        raise ValidationError(errors)
    referral = Referral.objects.select_for_update().get(pk=link.referral_id)
    responses = [
        record_patient_questionnaire(referral=referral, measure=m, answers=s.items, completed_on=today)
        for m, s in scored.items()
    ]
    link.used_at = timezone.now()
    link.save(update_fields=["used_at"])
    refresh_summary(referral)
    risk = PHQ9 in scored and scored[PHQ9].risk
    audit.record(
        QUESTIONNAIRE_LINK,
        "questionnaire_link.completed",
        link,
        patient_id=referral.patient_id,
        changes={"scores": {m.lower(): s.total for m, s in scored.items()}, "risk": risk},
    )
    if risk:
        raise_risk_flag(referral)
    queue_review(referral.pk)
    return responses, risk
