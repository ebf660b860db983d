"""The database defends the questionnaire record (issue 21.6): a measure of the measures table only, and on
PostgreSQL a response's (contact, referral) must be a contact *of that referral* (a composite foreign key
onto referrals 0009's unique (id, referral_id)). A patient's own response has no contact: MATCH SIMPLE
leaves it unchecked, and the check constraint questionnaire_contact_unless_patient covers it."""

from django.conf import settings
from django.db import migrations, models


FK = "questionnaire_contact_of_its_referral"


def _tables(apps, schema_editor):
    q = schema_editor.quote_name
    response = apps.get_model("outcomes", "QuestionnaireResponse")._meta.db_table
    contact = apps.get_model("referrals", "CareContact")._meta.db_table
    return q(response), q(contact)


def add_key(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    response, contact = _tables(apps, schema_editor)
    schema_editor.execute(
        f"ALTER TABLE {response} ADD CONSTRAINT {FK} FOREIGN KEY (contact_id, referral_id) "
        f"REFERENCES {contact} (id, referral_id)"  # checked at once: a contact is always saved before its scores
    )


def drop_key(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    response, _ = _tables(apps, schema_editor)
    schema_editor.execute(f"ALTER TABLE {response} DROP CONSTRAINT IF EXISTS {FK}")


class Migration(migrations.Migration):

    dependencies = [
        ('outcomes', '0009_trajectory_fits'),
        ('referrals', '0009_contact_with_its_referral'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddConstraint(
            model_name='questionnaireresponse',
            constraint=models.CheckConstraint(condition=models.Q(('measure__in', ['PHQ9', 'GAD7', 'MI_ALONE', 'MI_ACCOMPANIED', 'SPIN', 'PDSS', 'PCL5', 'OCI', 'HAI', 'BIQ', 'IBS_SSS', 'PHQ15', 'WSAS', 'PSWQ'])), name='questionnaire_measure_known'),
        ),
        migrations.AddConstraint(
            model_name='trajectorycell',
            constraint=models.CheckConstraint(condition=models.Q(('measure__in', ['PHQ9', 'GAD7', 'MI_ALONE', 'MI_ACCOMPANIED', 'SPIN', 'PDSS', 'PCL5', 'OCI', 'HAI', 'BIQ', 'IBS_SSS', 'PHQ15', 'WSAS', 'PSWQ'])), name='trajectory_cell_measure_known'),
        ),
        migrations.RunPython(add_key, drop_key, elidable=False),
    ]
