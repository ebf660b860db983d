"""The front door's services: a self-referral and a questionnaire link, with the real database and the
Notify outbox backend (nothing of ours mocked)."""

import datetime as dt
import hashlib

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from common import notify
from common.models import AuditEvent, NotifyMessage
from frontdoor import rules, services
from frontdoor.models import QuestionnaireLink, SelfReferral
from outcomes.models import QuestionnaireResponse
from referrals.codes import SOURCE_DATA_SET_CODES
from referrals.models import Patient, Referral
from stepped_care.models import ReviewFlag, Role
from tests.factories import PatientFactory, ReferralFactory, StaffFactory

from .conftest import GAD_9, PHQ_12, PHQ_12_RISK, answers

TODAY = timezone.localdate()


@pytest.fixture(autouse=True)
def _outbox():
    notify.outbox.clear()


def test_a_self_referral_creates_patient_referral_and_patient_scores(
    front_door, practice, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        made = services.submit_self_referral(front_door=front_door, data=answers(practice))
    referral = made.referral
    assert (referral.source, SOURCE_DATA_SET_CODES[referral.source]) == ("self", "B1")
    assert referral.status == "awaiting_assessment" and referral.care_coordinator is None
    assert referral.team == front_door.team and referral.presenting_problem == "depression"
    scores = {q.measure: (q.total, q.source, q.contact_id, q.created_by_id) for q in referral.questionnaires.all()}
    assert scores == {"PHQ9": (12, "patient", None, None), "GAD7": (9, "patient", None, None)}
    summary = Referral.objects.get(pk=referral.pk).summary
    assert (summary.phq9_first, summary.gad7_first) == (12, 9)
    assert made.contact_by == ["text message"] and not made.matched_existing_patient
    assert not ReviewFlag.objects.filter(referral=referral, rule="risk").exists()
    event = AuditEvent.objects.get(action="frontdoor.self_referral")
    assert event.system_actor == "self-referral form" and event.patient_id == referral.patient_id
    assert [m.template_key for m in NotifyMessage.objects.filter(referral=referral)] == ["self_referral_received"]
    assert notify.outbox[0].to == "07700 900123"


def test_item_9_above_0_raises_the_risk_flag_for_same_day_triage(front_door, practice):
    made = services.submit_self_referral(front_door=front_door, data=answers(practice, PHQ9=PHQ_12_RISK))
    flag = ReviewFlag.objects.get(referral=made.referral, rule="risk")
    assert flag.status == "open" and flag.episode == TODAY.isoformat()


@pytest.mark.parametrize(
    ("help_with", "measures"),
    [
        ("low_mood", ["PHQ9", "GAD7"]),
        ("social", ["PHQ9", "GAD7", "SPIN"]),
        ("trauma", ["PHQ9", "GAD7", "PCL5"]),
        ("agoraphobia", ["PHQ9", "GAD7", "MI_ALONE", "MI_ACCOMPANIED"]),
        ("ocd", ["PHQ9", "GAD7", "OCI"]),
        ("panic", ["PHQ9", "GAD7", "PDSS"]),
        ("health", ["PHQ9", "GAD7", "HAI"]),
        ("phobia", ["PHQ9", "GAD7"]),
        ("other", ["PHQ9", "GAD7"]),
    ],
)
def test_the_adsm_follows_what_the_person_wants_help_with(help_with, measures):
    assert rules.measures_for(help_with) == measures


@pytest.mark.parametrize(
    ("age", "listed", "min_age", "max_age", "problem"),
    [
        (17, True, 18, None, "aged 18 or over"),
        (18, True, 18, None, None),
        (80, True, 18, 65, "aged 18 to 65"),
        (65, True, 18, 65, None),
        (30, False, 18, None, "GP practice in its area"),
        (16, True, 16, 17, None),
    ],
)
def test_eligibility(age, listed, min_age, max_age, problem):
    dob = dt.date(TODAY.year - age, 1, 1) if (TODAY.month, TODAY.day) >= (1, 1) else None
    found = rules.eligibility_problem(
        date_of_birth=dob, practice_listed=listed, min_age=min_age, max_age=max_age, today=TODAY
    )
    assert (found is None) if problem is None else (problem in found)


def test_an_existing_patient_is_linked_by_nhs_number_and_date_of_birth(front_door, practice):
    known = PatientFactory(team=front_door.team, nhs_number="9434765919", date_of_birth=dt.date(1990, 5, 4))
    made = services.submit_self_referral(
        front_door=front_door, data=answers(practice, nhs_number="943 476 5919", date_of_birth=dt.date(1990, 5, 4))
    )
    assert made.referral.patient == known and made.matched_existing_patient
    assert Patient.objects.count() == 1


def test_a_person_known_to_another_team_is_linked_and_their_care_stays_hidden(front_door, practice):
    """The person is the service's, referrals are the team's (as at the staff door, issue 20.4)."""
    elsewhere = ReferralFactory(
        patient__nhs_number="9434765919", patient__date_of_birth=dt.date(1990, 5, 4), patient__given_name="Held"
    )
    known = elsewhere.patient
    assert known.team_id != front_door.team_id
    made = services.submit_self_referral(
        front_door=front_door, data=answers(practice, nhs_number="943 476 5919", date_of_birth=dt.date(1990, 5, 4))
    )
    assert made.referral.patient == known and made.matched_existing_patient
    assert made.referral.team_id == front_door.team_id
    assert list(known.registrations.values_list("team_id", flat=True)) == [front_door.team_id]
    assert Patient.objects.count() == 1
    known.refresh_from_db()
    assert known.given_name == "Held" and known.team_id == elsewhere.team_id  # their record is untouched
    assert AuditEvent.objects.filter(action="patient.link", object_id=str(known.pk)).count() == 1
    again = services.submit_self_referral(
        front_door=front_door, data=answers(practice, nhs_number="9434765919", date_of_birth=dt.date(1990, 5, 4))
    )
    assert again.referral.patient == known and known.registrations.count() == 1


def test_the_same_nhs_number_with_another_date_of_birth_links_nothing_and_reveals_nothing(front_door, practice):
    known = PatientFactory(team=front_door.team, nhs_number="9434765919", date_of_birth=dt.date(1990, 5, 4))
    made = services.submit_self_referral(
        front_door=front_door, data=answers(practice, nhs_number="9434765919", date_of_birth=dt.date(1991, 5, 4))
    )
    patient = made.referral.patient
    assert patient != known and patient.nhs_number is None and made.needs_identity_check
    known.refresh_from_db()
    assert known.given_name != "Robin"  # the existing record is untouched


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"PHQ9": [1] * 8}, "PHQ9"),
        ({"GAD7": [4] * 7}, "GAD7"),
        ({"contact_by": []}, "contact_by"),
        ({"contact_by": ["email"], "email": ""}, "email"),
        ({"help_with": "nonsense"}, "help_with"),
        ({"practice_id": 0}, "practice_id"),
        ({"date_of_birth": TODAY - dt.timedelta(days=365 * 10)}, "date_of_birth"),
        ({"given_name": " "}, "given_name"),
        ({"given_name": "\u200b"}, "given_name"),
    ],
)
def test_bad_input_names_the_field_and_saves_nothing(front_door, practice, change, field):
    with pytest.raises(ValidationError) as caught:
        services.submit_self_referral(front_door=front_door, data=answers(practice, **change))
    assert field in caught.value.message_dict
    assert not Referral.objects.exists() and not Patient.objects.exists()
    assert not QuestionnaireResponse.objects.exists() and not SelfReferral.objects.exists()


# --- questionnaire links -------------------------------------------------------------------------------


@pytest.fixture
def patient_referral(team, pwp):
    return ReferralFactory(patient__team=team, patient__phone="07700 900456", patient__email="", care_coordinator=pwp)


def send(referral, by, channel="sms"):
    return services.send_questionnaire_link(
        referral=referral, channel=channel, by=by, url_for=lambda token: f"https://tt.example/q/{token}/"
    )


def token_of_last_message():
    return notify.outbox[-1].personalisation["link"].rstrip("/").rpartition("/")[2]


def test_a_link_is_sent_stored_as_a_hash_and_works_once(patient_referral, pwp, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        link = send(patient_referral, pwp)
    token = token_of_last_message()
    assert len(token) >= 40 and link.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert token not in str(list(QuestionnaireLink.objects.values())) + str(list(AuditEvent.objects.values()))
    link.message.refresh_from_db()
    assert link.measures == ["PHQ9", "GAD7"] and link.message.status == "delivered"
    assert link.expires_at - timezone.now() > dt.timedelta(days=6, hours=23)
    with pytest.raises(services.LinkUnusable):
        services.complete_questionnaires(token=token, scores={"PHQ9": PHQ_12, "GAD7": GAD_9})  # not verified
    assert services.check_date_of_birth(token=token, date_of_birth=dt.date(1999, 1, 1)) is False
    assert services.check_date_of_birth(token=token, date_of_birth=patient_referral.patient.date_of_birth)
    responses, risk = services.complete_questionnaires(token=token, scores={"PHQ9": PHQ_12, "GAD7": GAD_9})
    assert not risk and {(r.measure, r.total, r.source, r.completed_on) for r in responses} == {
        ("PHQ9", 12, "patient", TODAY),
        ("GAD7", 9, "patient", TODAY),
    }
    assert Referral.objects.get(pk=patient_referral.pk).summary.phq9_last == 12
    with pytest.raises(services.LinkUnusable, match="already completed"):
        services.complete_questionnaires(token=token, scores={"PHQ9": PHQ_12, "GAD7": GAD_9})


def test_item_9_from_a_link_raises_the_risk_flag_at_once(patient_referral, pwp, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        send(patient_referral, pwp)
    token = token_of_last_message()
    services.check_date_of_birth(token=token, date_of_birth=patient_referral.patient.date_of_birth)
    _, risk = services.complete_questionnaires(token=token, scores={"PHQ9": PHQ_12_RISK, "GAD7": GAD_9})
    assert risk and ReviewFlag.objects.filter(referral=patient_referral, rule="risk", status="open").exists()


def test_bad_answers_from_a_link_save_nothing_and_leave_the_link_usable(
    patient_referral, pwp, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        send(patient_referral, pwp)
    token = token_of_last_message()
    services.check_date_of_birth(token=token, date_of_birth=patient_referral.patient.date_of_birth)
    with pytest.raises(ValidationError) as caught:
        services.complete_questionnaires(token=token, scores={"PHQ9": PHQ_12, "GAD7": [0, 1]})
    assert "GAD7" in caught.value.message_dict and not QuestionnaireResponse.objects.exists()
    assert QuestionnaireLink.objects.get().used_at is None


def test_an_expired_link_and_one_guessed_too_often_stop_working(
    patient_referral, pwp, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        send(patient_referral, pwp)
    token = token_of_last_message()
    for _ in range(services.MAX_DATE_CHECKS):
        assert not services.check_date_of_birth(token=token, date_of_birth=dt.date(2000, 1, 1))
    with pytest.raises(services.LinkUnusable, match="does not work"):
        services.check_date_of_birth(token=token, date_of_birth=patient_referral.patient.date_of_birth)
    with django_capture_on_commit_callbacks(execute=True):
        link = send(patient_referral, pwp)
    QuestionnaireLink.objects.filter(pk=link.pk).update(expires_at=timezone.now() - dt.timedelta(seconds=1))
    with pytest.raises(services.LinkUnusable, match="expired"):
        services.check_date_of_birth(
            token=token_of_last_message(), date_of_birth=patient_referral.patient.date_of_birth
        )
    with pytest.raises(services.LinkUnusable, match="does not work"):
        services.check_date_of_birth(token="not-a-token", date_of_birth=patient_referral.patient.date_of_birth)


def test_a_link_needs_a_number_or_address_on_the_record(patient_referral, pwp):
    with pytest.raises(ValidationError, match="no email address"):
        send(patient_referral, pwp, channel="email")
    assert not QuestionnaireLink.objects.exists() and not NotifyMessage.objects.exists()


ROLES = [
    (Role.PWP, True),
    (Role.PWP_TRAINEE, True),
    (Role.HI_THERAPIST, True),
    (Role.COUNSELLOR, True),
    (Role.MANAGER, False),
    (Role.ADMINISTRATOR, False),
]


@pytest.mark.parametrize(("role", "allowed"), ROLES)
def test_who_may_send_a_link_on_an_unallocated_referral(team, role, allowed):
    """Unallocated on the waiting list: every clinician of the team is on the case (may assess it)."""
    referral = ReferralFactory(patient__team=team, patient__phone="07700900456")
    user = StaffFactory(team=team, role=role)
    if allowed:
        assert send(referral, user).pk
    else:
        with pytest.raises(services.permissions.NotAllowed):
            send(referral, user)
        assert not QuestionnaireLink.objects.exists()


def test_a_colleague_off_the_case_and_an_outsider_may_not(patient_referral, colleague, outsider, supervisor):
    for user in (colleague, outsider, supervisor):
        with pytest.raises(services.permissions.NotAllowed):
            send(patient_referral, user)
    assert not QuestionnaireLink.objects.exists()
