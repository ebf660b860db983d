"""The API logs and shows the therapy delivered at a contact, as the data set codes it (SNOMED CT)."""

import datetime as dt

import pytest
from django.utils import timezone


@pytest.mark.django_db
def test_a_contact_carries_its_therapy_type_through_the_api(api, pwp, referral):
    api.force_authenticate(pwp)
    day = (timezone.localdate() - dt.timedelta(days=1)).isoformat()
    body = {"referral": str(referral.pk), "date": day, "appointment_type": "02", "attendance": "5"}
    bad = api.post("/api/v1/contacts/", {**body, "therapy_type": "12345"}, format="json")
    assert bad.status_code == 400 and "therapy_type" in bad.content.decode()
    made = api.post("/api/v1/contacts/", {**body, "therapy_type": "304891004"}, format="json")
    assert made.status_code == 201, made.content
    assert made.json()["therapy_type_display"] == "Cognitive behavioural therapy (CBT)"
    shown = api.get(f"/api/v1/contacts/{made.json()['id']}/").json()
    assert shown["therapy_type"] == "304891004"
