"""Facilitators see the referrals of the patients enrolled on their courses, while they are enrolled."""

import pytest

from referrals.models import Referral
from workshops import services
from workshops.models import WithdrawalReason


@pytest.mark.django_db
def test_a_cofacilitator_sees_members_only_while_enrolled(members, cofacilitator, colleague, pwp):
    referral = members[0].referral
    assert Referral.objects.visible_to(cofacilitator).filter(pk=referral.pk).exists()
    assert not Referral.objects.visible_to(colleague).filter(pk=referral.pk).exists()
    services.withdraw(enrolment=members[0], reason=WithdrawalReason.values[0], by=pwp, note="Moved away")
    assert not Referral.objects.visible_to(cofacilitator).filter(pk=referral.pk).exists()
