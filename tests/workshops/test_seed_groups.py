import pytest
from django.core.management import CommandError, call_command

from referrals.models import CareContact
from workshops.models import Enrolment, GroupCourse, RegisterEntry


@pytest.mark.django_db
def test_seed_groups_is_idempotent_and_fills_the_demo(settings):
    settings.DEBUG = True
    with pytest.raises(CommandError, match="seed_demo first"):
        call_command("seed_groups")
    call_command("seed_demo", "--password", "demo-password-123", "--referrals", "120")
    call_command("seed_groups")
    counts = (GroupCourse.objects.count(), Enrolment.objects.count(), RegisterEntry.objects.count())
    call_command("seed_groups")
    assert (GroupCourse.objects.count(), Enrolment.objects.count(), RegisterEntry.objects.count()) == counts
    assert counts[0] == 3 and counts[1] > 0 and counts[2] > 0
    assert CareContact.objects.filter(therapy_mode="3").count() == counts[2]
