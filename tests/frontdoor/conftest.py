"""A team's open self-referral form with two practices in its area, and answers that pass."""

import datetime as dt

import pytest

from frontdoor.models import FrontDoor, GPPractice

PHQ_12 = [2, 2, 2, 2, 1, 1, 1, 1, 0]
PHQ_12_RISK = [2, 2, 2, 2, 1, 1, 1, 0, 1]
GAD_9 = [2, 2, 1, 1, 1, 1, 1]


@pytest.fixture
def front_door(team):
    return FrontDoor.objects.create(team=team, slug="talking-matters-test", min_age=18)


@pytest.fixture
def practice(front_door):
    GPPractice.objects.create(front_door=front_door, ods_code="N81002", name="Ash Tree Surgery")
    return GPPractice.objects.create(front_door=front_door, ods_code="N81001", name="Beech Medical Centre")


def answers(practice, PHQ9=PHQ_12, GAD7=GAD_9, **changes):
    data = {
        "date_of_birth": dt.date(1990, 5, 4),
        "practice_id": practice.pk,
        "given_name": "Robin",
        "family_name": "Ashdown",
        "nhs_number": "",
        "phone": "07700 900123",
        "email": "",
        "address": "",
        "postcode": "",
        "contact_by": ["sms"],
        "help_with": "low_mood",
        "help_words": "Low since the winter",
        "scores": {"PHQ9": PHQ9, "GAD7": GAD7},
    }
    data.update(changes)
    return data
