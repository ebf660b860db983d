"""Every outcome summary recomputed under DOMAIN.md §2-3 as they now read: the anxiety measure the
presenting problem calls for, and two or more scores of each measure before an outcome is assessed.

The rows are read with the historical models and classified by the live pure rules
(``outcomes.metrics.referral_facts``, no ORM), so that ``rebuild_outcome_summaries --check`` passes straight
after migrating. Referrals where no ADSM applies and that had paired scores keep the outcome they had.
"""

from django.db import migrations
from django.db.models import IntegerField
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Cast

BATCH = 2000
SUMMARY_FIELDS = [
    "phq9_first", "phq9_last", "gad7_first", "gad7_last", "anxiety_measure", "anxiety_first", "anxiety_last",
    "adsm", "first_scored_on", "last_scored_on", "phq9_latest_item9", "attended_contacts",
    "attended_treatment_contacts", "dna_count", "contact_count", "first_treatment_on", "second_treatment_on",
    "last_contact_on", "last_attended_on", "ended_on", "computable", "caseness_at_start", "recovered",
    "reliable_improvement", "reliable_deterioration", "reliable_recovery", "finished_treatment",
]  # fmt: skip


def rebuild(apps, schema_editor):
    from outcomes.metrics import referral_facts
    from outcomes.problems import ProblemRecord
    from common.standards import standards

    Referral = apps.get_model("referrals", "Referral")
    Contact = apps.get_model("referrals", "CareContact")
    Response = apps.get_model("outcomes", "QuestionnaireResponse")
    Problem = apps.get_model("referrals", "PresentingProblemRecord")
    Summary = apps.get_model("outcomes", "OutcomeSummary")
    policy = standards()
    last = None
    while True:
        page = Referral.objects.order_by("pk")
        batch = list((page.filter(pk__gt=last) if last else page).values_list("pk", "team_id", "discharged_on")[:BATCH])
        if not batch:
            return
        last = batch[-1][0]
        ids = [r[0] for r in batch]
        contacts, scores, problems = {}, {}, {}
        for rid, on, appt, att in (
            Contact.objects.filter(referral_id__in=ids, entered_in_error=False)
            .order_by("referral_id", "date", "time", "created_at")
            .values_list("referral_id", "date", "appointment_type", "attendance")
        ):
            contacts.setdefault(rid, []).append((on, appt, att))
        for rid, measure, on, total, item9 in (
            Response.objects.filter(referral_id__in=ids, entered_in_error=False, contact__entered_in_error=False)
            .order_by("referral_id", "completed_on", "contact__time", "contact__created_at", "created_at")
            .annotate(item9=Cast(KeyTextTransform("8", "items"), IntegerField()))
            .values_list("referral_id", "measure", "completed_on", "total", "item9")
        ):
            total = int(total) if total == int(total) else total
            scores.setdefault(rid, []).append((measure, on, total, item9))
        for rid, code, significance, on, created_at, problem in Problem.objects.filter(referral_id__in=ids).values_list(
            "referral_id", "code", "significance", "recorded_on", "created_at", "problem"
        ):
            problems.setdefault(rid, []).append(ProblemRecord(code, significance, on, created_at, problem))
        rows = []
        for rid, team_id, discharged_on in batch:
            facts, _ = referral_facts(
                contacts.get(rid, []),
                scores.get(rid, []),
                problems=problems.get(rid, []),
                ended_on=discharged_on,
                mixed_policy=policy["mixed_reliable_change"],
                min_treatment_contacts=policy["finished_treatment_min_contacts"],
            )
            rows.append(Summary(referral_id=rid, team_id=team_id, **facts))
        Summary.objects.bulk_create(rows, update_conflicts=True, unique_fields=["referral"], update_fields=SUMMARY_FIELDS)


class Migration(migrations.Migration):
    dependencies = [
        ("outcomes", "0006_items_replace_columns"),
        ("referrals", "0007_presenting_problems"),
    ]

    operations = [migrations.RunPython(rebuild, migrations.RunPython.noop)]
