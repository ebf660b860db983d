"""Presenting problems as a history of ICD-10 codes (IDS603), each primary or secondary with its date.

Every existing referral keeps its current problem as a first record: primary, dated the day the referral
was received, coded with the "unspecified" ICD-10 code of its problem descriptor (depression F32.9, OCD
F42.9, social anxiety F40.1, ...). A referral whose problem was "other" keeps that descriptor with no code:
nothing recorded says which code it would be. The codes are written out here (not imported) so that this
migration keeps meaning what it meant when it ran.
"""

import django.db.models.deletion
import uuid
from django.conf import settings
from django.db import migrations, models


UNSPECIFIED = {
    "depression": "F32.9",
    "gad": "F41.1",
    "mixed": "F41.2",
    "social_anxiety": "F40.1",
    "ptsd": "F43.1",
    "agoraphobia": "F40.0",
    "ocd": "F42.9",
    "panic": "F41.0",
    "health_anxiety": "F45.2",
    "specific_phobia": "F40.2",
    "other_anxiety": "F41.9",
    "other": "",
}
BATCH = 5000


def first_records(apps, schema_editor):
    Referral = apps.get_model("referrals", "Referral")
    Record = apps.get_model("referrals", "PresentingProblemRecord")
    rows = Referral.objects.order_by("pk").values_list("pk", "presenting_problem", "received_on")
    batch = []
    for pk, problem, received_on in rows.iterator(chunk_size=BATCH):
        problem = problem if problem in UNSPECIFIED else "other"
        batch.append(
            Record(
                referral_id=pk,
                code=UNSPECIFIED[problem],
                problem=problem,
                significance="primary",
                recorded_on=received_on,
            )
        )
        if len(batch) >= BATCH:
            Record.objects.bulk_create(batch)
            batch = []
    Record.objects.bulk_create(batch)
    if Record.objects.values("referral_id").distinct().count() != Referral.objects.count():
        raise RuntimeError("A referral was left without its presenting problem")


def drop_records(apps, schema_editor):
    apps.get_model("referrals", "PresentingProblemRecord").objects.all().delete()


class Migration(migrations.Migration):

    dependencies = [
        ('referrals', '0006_end_codes_of_the_data_set'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AlterField(
            model_name='referral',
            name='presenting_problem',
            field=models.CharField(choices=[('depression', 'Depression'), ('gad', 'Generalised anxiety disorder'), ('mixed', 'Mixed anxiety and depressive disorder'), ('social_anxiety', 'Social anxiety disorder'), ('ptsd', 'Post-traumatic stress disorder'), ('agoraphobia', 'Agoraphobia'), ('ocd', 'Obsessive-compulsive disorder'), ('panic', 'Panic disorder'), ('health_anxiety', 'Health anxiety'), ('specific_phobia', 'Specific phobia'), ('other_anxiety', 'Other anxiety or stress-related disorder'), ('other', 'Other')], default='depression', max_length=20),
        ),
        migrations.CreateModel(
            name='PresentingProblemRecord',
            fields=[
                ('id', models.UUIDField(default=uuid.uuid4, editable=False, primary_key=True, serialize=False)),
                ('code', models.CharField(blank=True, choices=[('F32.0', 'F32.0 Mild depressive episode'), ('F32.1', 'F32.1 Moderate depressive episode'), ('F32.2', 'F32.2 Severe depressive episode without psychotic symptoms'), ('F32.3', 'F32.3 Severe depressive episode with psychotic symptoms'), ('F32.8', 'F32.8 Other depressive episodes'), ('F32.9', 'F32.9 Depressive episode, unspecified'), ('F33.0', 'F33.0 Recurrent depressive disorder, current episode mild'), ('F33.1', 'F33.1 Recurrent depressive disorder, current episode moderate'), ('F33.2', 'F33.2 Recurrent depressive disorder, current episode severe without psychotic symptoms'), ('F33.3', 'F33.3 Recurrent depressive disorder, current episode severe with psychotic symptoms'), ('F33.4', 'F33.4 Recurrent depressive disorder, currently in remission'), ('F33.8', 'F33.8 Other recurrent depressive disorders'), ('F33.9', 'F33.9 Recurrent depressive disorder, unspecified'), ('F40.0', 'F40.0 Agoraphobia'), ('F40.1', 'F40.1 Social phobia'), ('F40.2', 'F40.2 Specific (isolated) phobia'), ('F40.8', 'F40.8 Other phobic anxiety disorders'), ('F40.9', 'F40.9 Phobic anxiety disorder, unspecified'), ('F41.0', 'F41.0 Panic disorder'), ('F41.1', 'F41.1 Generalised anxiety disorder'), ('F41.2', 'F41.2 Mixed anxiety and depressive disorder'), ('F41.3', 'F41.3 Other mixed anxiety disorders'), ('F41.8', 'F41.8 Other specified anxiety disorders'), ('F41.9', 'F41.9 Anxiety disorder, unspecified'), ('F42.0', 'F42.0 Obsessive-compulsive disorder: predominantly obsessional thoughts or ruminations'), ('F42.1', 'F42.1 Obsessive-compulsive disorder: predominantly compulsive acts'), ('F42.2', 'F42.2 Obsessive-compulsive disorder: mixed obsessional thoughts and acts'), ('F42.8', 'F42.8 Other obsessive-compulsive disorders'), ('F42.9', 'F42.9 Obsessive-compulsive disorder, unspecified'), ('F43.0', 'F43.0 Acute stress reaction'), ('F43.1', 'F43.1 Post-traumatic stress disorder'), ('F43.2', 'F43.2 Adjustment disorders'), ('F43.8', 'F43.8 Other reactions to severe stress'), ('F43.9', 'F43.9 Reaction to severe stress, unspecified'), ('F45.2', 'F45.2 Hypochondriacal disorder (health anxiety)')], max_length=8, verbose_name='ICD-10 code')),
                ('problem', models.CharField(choices=[('depression', 'Depression'), ('gad', 'Generalised anxiety disorder'), ('mixed', 'Mixed anxiety and depressive disorder'), ('social_anxiety', 'Social anxiety disorder'), ('ptsd', 'Post-traumatic stress disorder'), ('agoraphobia', 'Agoraphobia'), ('ocd', 'Obsessive-compulsive disorder'), ('panic', 'Panic disorder'), ('health_anxiety', 'Health anxiety'), ('specific_phobia', 'Specific phobia'), ('other_anxiety', 'Other anxiety or stress-related disorder'), ('other', 'Other')], max_length=20)),
                ('significance', models.CharField(choices=[('primary', 'Primary'), ('secondary', 'Secondary')], default='primary', max_length=10)),
                ('recorded_on', models.DateField()),
                ('created_at', models.DateTimeField(auto_now_add=True)),
                ('created_by', models.ForeignKey(null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
                ('referral', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='presenting_problems', to='referrals.referral')),
            ],
            options={
                'ordering': ['recorded_on', 'created_at'],
                'indexes': [models.Index(fields=['referral', 'recorded_on'], name='referrals_p_referra_c4f47f_idx')],
                'constraints': [models.CheckConstraint(condition=models.Q(('code__in', ['F32.0', 'F32.1', 'F32.2', 'F32.3', 'F32.8', 'F32.9', 'F33.0', 'F33.1', 'F33.2', 'F33.3', 'F33.4', 'F33.8', 'F33.9', 'F40.0', 'F40.1', 'F40.2', 'F40.8', 'F40.9', 'F41.0', 'F41.1', 'F41.2', 'F41.3', 'F41.8', 'F41.9', 'F42.0', 'F42.1', 'F42.2', 'F42.8', 'F42.9', 'F43.0', 'F43.1', 'F43.2', 'F43.8', 'F43.9', 'F45.2']), models.Q(('code', ''), ('problem', 'other')), _connector='OR'), name='problem_code_listed'), models.CheckConstraint(condition=models.Q(('significance__in', ['primary', 'secondary'])), name='problem_significance'), models.CheckConstraint(condition=models.Q(models.Q(('problem', 'depression'), _negated=True), ('code__in', ['F32.0', 'F32.1', 'F32.2', 'F32.3', 'F32.8', 'F32.9', 'F33.0', 'F33.1', 'F33.2', 'F33.3', 'F33.4', 'F33.8', 'F33.9']), _connector='OR'), name='problem_depression_codes'), models.CheckConstraint(condition=models.Q(models.Q(('problem', 'agoraphobia'), _negated=True), ('code__in', ['F40.0']), _connector='OR'), name='problem_agoraphobia_codes'), models.CheckConstraint(condition=models.Q(models.Q(('problem', 'social_anxiety'), _negated=True), ('code__in', ['F40.1']), _connector='OR'), name='problem_social_anxiety_codes'), models.CheckConstraint(condition=models.Q(models.Q(('problem', 'specific_phobia'), _negated=True), ('code__in', ['F40.2']), _connector='OR'), name='problem_specific_phobia_codes'), models.CheckConstraint(condition=models.Q(models.Q(('problem', 'other_anxiety'), _negated=True), ('code__in', ['F40.8', 'F40.9', 'F41.3', 'F41.8', 'F41.9', 'F43.0', 'F43.2', 'F43.8', 'F43.9']), _connector='OR'), name='problem_other_anxiety_codes'), models.CheckConstraint(condition=models.Q(models.Q(('problem', 'panic'), _negated=True), ('code__in', ['F41.0']), _connector='OR'), name='problem_panic_codes'), models.CheckConstraint(condition=models.Q(models.Q(('problem', 'gad'), _negated=True), ('code__in', ['F41.1']), _connector='OR'), name='problem_gad_codes'), models.CheckConstraint(condition=models.Q(models.Q(('problem', 'mixed'), _negated=True), ('code__in', ['F41.2']), _connector='OR'), name='problem_mixed_codes'), models.CheckConstraint(condition=models.Q(models.Q(('problem', 'ocd'), _negated=True), ('code__in', ['F42.0', 'F42.1', 'F42.2', 'F42.8', 'F42.9']), _connector='OR'), name='problem_ocd_codes'), models.CheckConstraint(condition=models.Q(models.Q(('problem', 'ptsd'), _negated=True), ('code__in', ['F43.1']), _connector='OR'), name='problem_ptsd_codes'), models.CheckConstraint(condition=models.Q(models.Q(('problem', 'health_anxiety'), _negated=True), ('code__in', ['F45.2']), _connector='OR'), name='problem_health_anxiety_codes'), models.CheckConstraint(condition=models.Q(models.Q(('problem', 'other'), _negated=True), ('code__in', ['']), _connector='OR'), name='problem_other_codes')],
            },
        ),
        migrations.RunPython(first_records, drop_records),
    ]
