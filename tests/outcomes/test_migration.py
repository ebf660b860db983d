"""The move to item arrays, presenting problems and ADSM outcomes loses nothing (outcomes 0005-0007,
referrals 0007): the database is taken back to the nine-column schema, filled with rows as the old code
wrote them, and migrated forward."""

import datetime as dt

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from outcomes.models import OutcomeSummary, QuestionnaireResponse
from referrals.models import PresentingProblemRecord

BEFORE = [("outcomes", "0004_questionnaireresponse_id_uuid"), ("referrals", "0006_end_codes_of_the_data_set")]
DAY = dt.date(2026, 3, 2)

# referral -> (problem, [(PHQ-9 items, GAD-7 items, WSAS items or None), ...] one per weekly contact)
PHQ_18 = [3, 3, 2, 2, 2, 2, 2, 2, 0]
PHQ_6 = [1, 1, 1, 1, 1, 1, 0, 0, 0]
GAD_14 = [2, 2, 2, 2, 2, 2, 2]
GAD_5 = [1, 1, 1, 1, 1, 0, 0]
HISTORY = {
    "paired depression": ("depression", [(PHQ_18, GAD_14, [4, 4, 2, 0, 0]), (PHQ_6, GAD_5, None)]),
    "paired social anxiety": ("social_anxiety", [(PHQ_18, GAD_14, None), (PHQ_18, GAD_14, None), (PHQ_6, GAD_5, None)]),
    "one score each": ("other", [(PHQ_18, GAD_14, None)]),
}


def _old_rows(apps):
    Team = apps.get_model("stepped_care", "Team")
    Staff = apps.get_model("stepped_care", "Staff")
    Patient = apps.get_model("referrals", "Patient")
    Referral = apps.get_model("referrals", "Referral")
    Contact = apps.get_model("referrals", "CareContact")
    Response = apps.get_model("outcomes", "QuestionnaireResponse")
    team = Team.objects.create(name="Migration Team", code="MIG")
    pwp = Staff.objects.create(username="pwp_mig", team=team, role="pwp", password="!")
    made = {}
    for name, (problem, contacts) in HISTORY.items():
        patient = Patient.objects.create(
            given_name="Old", family_name=name, date_of_birth=dt.date(1980, 1, 1), team=team
        )
        referral = Referral.objects.create(
            patient=patient,
            team=team,
            received_on=DAY,
            source="gp",
            presenting_problem=problem,
            status="discharged",
            discharged_on=DAY + dt.timedelta(days=30),
            end_code="46",
            care_coordinator=pwp,
        )
        made[name] = referral.pk
        for n, answers in enumerate(contacts):
            on = DAY + dt.timedelta(days=7 * n)
            contact = Contact.objects.create(
                referral=referral,
                clinician=pwp,
                date=on,
                appointment_type="01" if n == 0 else "02",
                attendance="5",
                created_by=pwp,
            )
            for measure, items in zip(("PHQ9", "GAD7", "WSAS"), answers, strict=True):
                if items is None:
                    continue
                columns = {f"item_{i}": v for i, v in enumerate(items, start=1)}
                Response.objects.create(
                    contact=contact,
                    referral=referral,
                    measure=measure,
                    completed_on=on,
                    total=sum(items),
                    created_by=pwp,
                    **columns,
                )
    return made


@pytest.mark.django_db(transaction=True)
def test_migrating_keeps_every_answer_and_every_problem_and_the_summaries_match_a_rebuild():
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    made = _old_rows(executor.loader.project_state(BEFORE).apps)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())

    responses = list(QuestionnaireResponse.objects.order_by("referral_id", "completed_on", "measure"))
    written = sum(1 for _, contacts in HISTORY.values() for answers in contacts for items in answers if items)
    assert len(responses) == written == 13  # every PHQ-9, GAD-7 and WSAS response is still there
    kept = {(r.referral_id, r.completed_on, r.measure): (r.items, r.total) for r in responses}
    for name, (_, contacts) in HISTORY.items():
        for n, answers in enumerate(contacts):
            on = DAY + dt.timedelta(days=7 * n)
            for measure, items in zip(("PHQ9", "GAD7", "WSAS"), answers, strict=True):
                if items is not None:
                    assert kept[(made[name], on, measure)] == (items, sum(items)), (name, n, measure)

    problems = {p.referral_id: p for p in PresentingProblemRecord.objects.all()}
    assert len(problems) == 3
    assert (problems[made["paired depression"]].code, problems[made["paired depression"]].problem) == (
        "F32.9",
        "depression",
    )
    assert problems[made["paired social anxiety"]].code == "F40.1"
    assert (problems[made["one score each"]].code, problems[made["one score each"]].problem) == ("", "other")
    assert all(p.significance == "primary" and p.recorded_on == DAY for p in problems.values())

    call_command("rebuild_outcome_summaries", "--check")  # raises if any summary differs from a rebuild
    summaries = {s.referral_id: s for s in OutcomeSummary.objects.all()}
    paired = summaries[made["paired depression"]]
    assert (paired.anxiety_measure, paired.anxiety_first, paired.anxiety_last) == ("GAD7", 14, 5)
    assert paired.recovered and paired.reliable_improvement and paired.reliable_recovery
    assert not paired.finished_treatment  # one treatment contact
    social = summaries[made["paired social anxiety"]]  # no SPIN scores: GAD-7 decides, outcome as before
    assert (social.adsm, social.anxiety_measure, social.recovered, social.reliable_recovery) == (
        "SPIN",
        "GAD7",
        True,
        True,
    )
    single = summaries[made["one score each"]]  # one score of each is not a pair: not assessed
    assert not single.computable and single.recovered is None and single.anxiety_measure == ""
