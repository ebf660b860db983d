import pytest
from django.core.management import CommandError, call_command
from django.db.models import F

from referrals.models import CareContact, Referral
from stepped_care.models import Staff


@pytest.mark.django_db
def test_seed_demo_is_idempotent(settings):
    settings.DEBUG = True
    call_command("seed_demo", "--password", "demo-password-123", "--referrals", "40")
    counts = (Staff.objects.count(), Referral.objects.count(), CareContact.objects.count())
    call_command("seed_demo", "--password", "demo-password-123", "--referrals", "40")
    assert (Staff.objects.count(), Referral.objects.count(), CareContact.objects.count()) == counts
    assert counts[1] == 40 and counts[2] > 40
    for username in ("pwp1", "pwp2", "hit1", "supervisor1", "manager1", "admin"):
        assert Staff.objects.get(username=username).check_password("demo-password-123")


@pytest.mark.django_db
def test_seed_demo_gives_the_clinicians_diaries_and_a_day(settings):
    """Working patterns for every clinician; today's appointments for the demo PWPs (My day), once."""
    from django.utils import timezone

    from appointments import queries
    from appointments.models import Appointment, Leave, WorkingPattern

    settings.DEBUG = True
    call_command("seed_demo", "--password", "demo-password-123", "--referrals", "60", "--skip-extras")
    counts = (WorkingPattern.objects.count(), Appointment.objects.count(), Leave.objects.count())
    call_command("seed_demo", "--password", "demo-password-123", "--referrals", "60", "--skip-extras")
    assert (WorkingPattern.objects.count(), Appointment.objects.count(), Leave.objects.count()) == counts
    pwp1 = Staff.objects.get(username="pwp1")
    assert WorkingPattern.objects.filter(clinician=pwp1).count() == 10
    assert Appointment.objects.filter(clinician=pwp1, starts_at__date=timezone.localdate()).count() >= 2
    # pwp2 is off sick today, pwp1 covering: pwp1's day holds pwp2's appointments too
    assert Leave.objects.get(clinician__username="pwp2").cover == pwp1
    assert {a.clinician.username for a in queries.my_day(pwp1, timezone.localdate())} == {"pwp1", "pwp2"}


@pytest.mark.django_db
def test_seed_demo_refuses_with_debug_off(settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="DEBUG off"):
        call_command("seed_demo", "--referrals", "1")


@pytest.mark.django_db
def test_the_demo_service_has_enough_history_to_fit_its_curves(settings):
    """seed_demo fits the expected recovery curves once, before its review scan (issue 19.1)."""
    from outcomes.models import TrajectoryFit
    from stepped_care.models import ReviewFlag

    settings.DEBUG = True
    call_command("seed_demo", "--password", "demo-password-123")
    fit = TrajectoryFit.objects.get(team__code="TMS")
    assert fit.courses > 100
    measures = {c.measure for c in fit.cells.all()}
    assert {"PHQ9", "GAD7"} <= measures
    assert all(c.n >= 10 for c in fit.cells.all())
    assert ReviewFlag.objects.filter(rule="not_on_track", status="open").exists()
    # What the services refuse, the demo never holds (the data-set export validates it): no contact
    # dated after its referral's discharge.
    after = CareContact.objects.filter(referral__discharged_on__isnull=False, date__gt=F("referral__discharged_on"))
    assert not after.exists(), list(after.values_list("referral_id", "date", "attendance")[:5])
