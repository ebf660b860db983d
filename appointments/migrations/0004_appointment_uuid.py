"""Appointments get random ids (UUIDs, as every record of a patient has: an id in a URL reveals no count).

The table held no appointments anywhere yet (the booking pages come with this change), so it is made
anew rather than converted; the double-booking exclusion constraint (0002) is dropped with it and added
back on PostgreSQL."""

import uuid

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

from importlib import import_module

no_double_booking = import_module("appointments.migrations.0002_no_double_booking")


class Migration(migrations.Migration):

    dependencies = [
        ('appointments', '0003_calendar_feed'),
        ('referrals', '0008_patient_registrations_and_session_drafts'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RunPython(no_double_booking.backwards, no_double_booking.forwards),
        migrations.DeleteModel(name='Appointment'),
        migrations.CreateModel(
            name='Appointment',
            fields=[
                ('id', models.UUIDField(default=uuid.uuid4, editable=False, primary_key=True, serialize=False)),
                ('starts_at', models.DateTimeField()),
                ('ends_at', models.DateTimeField()),
                ('appointment_type', models.CharField(choices=[('01', 'Assessment'), ('02', 'Treatment'), ('03', 'Assessment and treatment'), ('05', 'Review and treatment')], max_length=2)),
                ('mechanism', models.CharField(choices=[('01', 'Face to face'), ('02', 'Telephone'), ('11', 'Video consultation'), ('05', 'Email'), ('06', 'Short message service (SMS)'), ('98', 'Other')], default='01', max_length=2)),
                ('status', models.CharField(choices=[('booked', 'Booked'), ('done', 'Outcome recorded'), ('cancelled', 'Cancelled')], default='booked', max_length=10)),
                ('cancel_reason', models.CharField(blank=True, choices=[('patient', 'Cancelled by the patient'), ('provider', 'Cancelled by the provider'), ('rescheduled', 'Rescheduled')], max_length=12)),
                ('cancel_note', models.TextField(blank=True)),
                ('attendance', models.CharField(blank=True, choices=[('5', 'Attended on time'), ('6', 'Arrived late but was seen'), ('7', 'Arrived late and could not be seen'), ('2', 'Cancelled by the patient'), ('4', 'Cancelled or postponed by the provider'), ('3', 'Did not attend')], max_length=1)),
                ('reminder_sent_at', models.DateTimeField(blank=True, null=True)),
                ('version', models.PositiveIntegerField(default=1)),
                ('created_at', models.DateTimeField(auto_now_add=True)),
                ('clinician', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='appointments', to=settings.AUTH_USER_MODEL)),
                ('contact', models.OneToOneField(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='appointment', to='referrals.carecontact')),
                ('created_by', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
                ('referral', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='appointments', to='referrals.referral')),
            ],
            options={
                'indexes': [models.Index(fields=['clinician', 'starts_at'], name='appointment_clinici_a0f95d_idx')],
                'constraints': [models.CheckConstraint(condition=models.Q(('ends_at__gt', models.F('starts_at'))), name='appt_ends_after')],
            },
        ),
        migrations.RunPython(no_double_booking.forwards, no_double_booking.backwards),
    ]
