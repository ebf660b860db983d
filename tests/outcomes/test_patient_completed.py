"""Scores the patient completed on their own (no contact): they count in the outcome summary, the chart,
the caseload and the review rules like a clinician's (IDS606), and the next session form shows them."""

import datetime as dt

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from outcomes.models import QuestionnaireResponse, Source
from outcomes.services import compute_outcome, record_patient_questionnaire, refresh_summary
from referrals import presenters, queries
from referrals import services as referral_services
from referrals.models import Referral
from stepped_care.models import ReviewFlag
from stepped_care.services import raise_risk_flag

TODAY = timezone.localdate()
PHQ_14 = [2, 2, 2, 2, 2, 1, 1, 1, 1]  # 14, item 9 = 1
PHQ_14_SAFE = [2, 2, 2, 2, 2, 2, 1, 1, 0]  # 14, item 9 = 0
PHQ_5 = [1, 1, 1, 1, 1, 0, 0, 0, 0]
GAD_12 = [2, 2, 2, 2, 2, 1, 1]
GAD_4 = [1, 1, 1, 1, 0, 0, 0]


def own(referral, measure, answers, days_ago):
    return record_patient_questionnaire(
        referral=referral, measure=measure, answers=answers, completed_on=TODAY - dt.timedelta(days=days_ago)
    )


def session(referral, pwp, days_ago, phq9=None, gad7=None, appointment_type="02"):
    return referral_services.log_contact(
        referral=referral,
        by=pwp,
        date=TODAY - dt.timedelta(days=days_ago),
        appointment_type=appointment_type,
        attendance="5",
        phq9=phq9,
        gad7=gad7,
    )


@pytest.mark.django_db
def test_a_patients_first_scores_pair_with_a_clinicians_last(referral, pwp):
    own(referral, "PHQ9", PHQ_14_SAFE, 30)
    own(referral, "GAD7", GAD_12, 30)
    refresh_summary(referral)
    for days in (20, 10, 5):
        session(referral, pwp, days)
    session(referral, pwp, 2, phq9=PHQ_5, gad7=GAD_4)
    summary = Referral.objects.get(pk=referral.pk).summary
    assert (summary.phq9_first, summary.phq9_last, summary.gad7_first, summary.gad7_last) == (14, 5, 12, 4)
    assert summary.first_scored_on == TODAY - dt.timedelta(days=30)
    assert summary.computable and summary.caseness_at_start and summary.recovered
    assert compute_outcome(referral).assessed


@pytest.mark.django_db
def test_a_contact_marked_in_error_takes_its_scores_away_but_not_the_patients_own(referral, pwp):
    own(referral, "PHQ9", PHQ_14_SAFE, 9)
    contact = session(referral, pwp, 3, phq9=PHQ_5)
    assert Referral.objects.get(pk=referral.pk).summary.phq9_last == 5
    referral_services.mark_contact_in_error(contact=contact, reason="wrong patient", by=pwp)
    summary = Referral.objects.get(pk=referral.pk).summary
    assert (summary.phq9_first, summary.phq9_last) == (14, 14)


@pytest.mark.django_db
def test_the_caseload_chart_and_table_show_the_patients_own_scores(referral, pwp):
    session(referral, pwp, 8, phq9=PHQ_5, appointment_type="01")
    own(referral, "PHQ9", PHQ_14_SAFE, 1)
    own(referral, "GAD7", GAD_12, 1)
    refresh_summary(referral)
    row = Referral.objects.filter(pk=referral.pk).with_list_facts().with_trends_and_flags().get()
    assert row.phq9_last == 14
    assert [q.total for q in row.trend_scores if q.measure == "PHQ9"] == [5, 14]
    rows = presenters.score_rows(referral.contacts.prefetch_related("questionnaires"), queries.own_scores(referral))
    assert [(r.on, r.by_patient) for r in rows] == [
        (TODAY - dt.timedelta(days=8), False),
        (TODAY - dt.timedelta(days=1), True),
    ]
    assert rows[-1].phq9.value == 14 and rows[-1].gad7.value == 12
    words = presenters.patient_completed_words(rows, TODAY)
    assert words.startswith("Completed by the patient yesterday: PHQ-9 14") and "GAD-7 12" in words
    # a session logged since: nothing new from the patient any more
    session(referral, pwp, 0, phq9=PHQ_5)
    rows = presenters.score_rows(referral.contacts.prefetch_related("questionnaires"), queries.own_scores(referral))
    assert presenters.patient_completed_words(rows, TODAY) is None


@pytest.mark.parametrize(("answers", "flagged"), [(PHQ_14, True), (PHQ_14_SAFE, False)])
@pytest.mark.django_db
def test_item_9_above_0_on_the_patients_own_phq9_raises_the_risk_flag(referral, answers, flagged):
    own(referral, "PHQ9", answers, 0)
    raise_risk_flag(referral)
    flags = ReviewFlag.objects.filter(referral=referral, rule="risk", status="open")
    assert flags.exists() is flagged
    if flagged:
        assert flags.get().episode == TODAY.isoformat()


@pytest.mark.django_db
def test_a_patients_own_score_is_not_a_contact_for_the_review_rules(referral, pwp):
    """Review overdue counts from the last contact: a questionnaire from a link is no review."""
    from stepped_care import review

    own(referral, "PHQ9", PHQ_14_SAFE, 0)
    history = review.History("in_treatment", referral.received_on, contacts=[(TODAY, "", "", 14, 0, None, referral.pk)])
    assert review._gather(history).last_contact_on is None


@pytest.mark.django_db
def test_the_database_refuses_a_clinicians_score_without_a_contact(referral, pwp):
    with pytest.raises(IntegrityError), transaction.atomic():
        QuestionnaireResponse.objects.create(
            referral=referral,
            measure="PHQ9",
            completed_on=TODAY,
            items=PHQ_5,
            total=5,
            source=Source.CLINICIAN,
            created_by=pwp,
        )
    contact = session(referral, pwp, 1)
    with pytest.raises(IntegrityError), transaction.atomic():
        QuestionnaireResponse.objects.create(
            referral=referral,
            contact=contact,
            measure="PHQ9",
            completed_on=TODAY,
            items=PHQ_5,
            total=5,
            source=Source.PATIENT,
        )
