"""The GOV.UK Notify adapter: the outbox backend, and the real client against Notify's HTTP API (mocked
with `responses`, the only thing mocked)."""

import json
import uuid

import pytest
import responses
from django.db import transaction

from common import notify
from common.models import NotifyMessage

SERVICE = str(uuid.uuid4())
SECRET = str(uuid.uuid4())
API_KEY = f"test_key-{SERVICE}-{SECRET}"
BASE = "https://notify.test"


@pytest.fixture(autouse=True)
def _empty_outbox():
    notify.outbox.clear()
    yield
    notify.outbox.clear()


@pytest.fixture
def real_notify(settings):
    settings.NOTIFY_API_KEY = API_KEY
    settings.NOTIFY_BASE_URL = BASE
    settings.NOTIFY_TEMPLATES = {"questionnaire_link": {"sms": "tmpl-sms", "email": "tmpl-email"}}


def test_outbox_backend_keeps_the_message_and_records_no_text(referral, pwp, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        message = notify.send_sms(
            "07700 900678", "questionnaire_link", {"link": "https://x/q/SECRET"}, referral=referral, by=pwp
        )
    assert len(notify.outbox) == 1
    sent = notify.outbox[0]
    assert (sent.to, sent.channel, sent.personalisation["link"]) == ("07700 900678", "sms", "https://x/q/SECRET")
    message.refresh_from_db()
    assert message.status == NotifyMessage.Status.DELIVERED
    assert message.recipient_hint == "…678"
    assert (message.referral, message.sent_by, message.backend) == (referral, pwp, "outbox")
    stored = json.dumps([str(v) for v in NotifyMessage.objects.values().first().values()])
    assert "SECRET" not in stored and "900678" not in stored


def test_nothing_is_sent_when_the_write_rolls_back(referral, pwp, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        try:
            with transaction.atomic():
                notify.send_email("pat@example.org", "questionnaire_link", {}, referral=referral, by=pwp)
                raise RuntimeError("the write failed")
        except RuntimeError:
            pass
    assert notify.outbox == [] and not NotifyMessage.objects.exists()


def test_unknown_template_key_is_refused(db):
    with pytest.raises(notify.NotifyError, match="no_such"):
        notify.send_sms("07700900678", "no_such", {})


@responses.activate
def test_real_backend_sends_through_notify_and_polls_its_status(
    real_notify, referral, pwp, django_capture_on_commit_callbacks
):
    notify_id = str(uuid.uuid4())
    sent = responses.post(f"{BASE}/v2/notifications/sms", json={"id": notify_id, "reference": "r"}, status=201)
    with django_capture_on_commit_callbacks(execute=True):
        message = notify.send_sms("07700900678", "questionnaire_link", {"link": "L"}, referral=referral, by=pwp)
    body = json.loads(sent.calls[0].request.body)
    assert body == {
        "phone_number": "07700900678",
        "template_id": "tmpl-sms",
        "personalisation": {"link": "L"},
        "reference": str(message.pk),
    }
    assert sent.calls[0].request.headers["Authorization"].startswith("Bearer ")
    message.refresh_from_db()
    assert (message.notify_id, message.status, message.backend) == (notify_id, "sending", "notify")
    assert notify.outbox == []

    responses.get(f"{BASE}/v2/notifications/{notify_id}", json={"id": notify_id, "status": "delivered"})
    assert notify.refresh_statuses() == 1
    message.refresh_from_db()
    assert message.status == NotifyMessage.Status.DELIVERED
    assert notify.refresh_statuses() == 0  # delivered messages are not asked about again


@pytest.mark.parametrize(
    ("notify_status", "ours"),
    [
        ("created", "sending"),
        ("sending", "sending"),
        ("delivered", "delivered"),
        ("permanent-failure", "permanent-failure"),
        ("temporary-failure", "temporary-failure"),
        ("technical-failure", "technical-failure"),
    ],
)
@responses.activate
def test_notify_statuses_are_mapped(db, real_notify, notify_status, ours, django_capture_on_commit_callbacks):
    responses.post(f"{BASE}/v2/notifications/email", json={"id": "n-1"}, status=201)
    with django_capture_on_commit_callbacks(execute=True):
        message = notify.send_email("pat@example.org", "questionnaire_link", {})
    responses.get(f"{BASE}/v2/notifications/n-1", json={"id": "n-1", "status": notify_status})
    notify.refresh_statuses()
    message.refresh_from_db()
    assert message.status == ours
    assert message.recipient_hint == "…@example.org"


@responses.activate
def test_a_refusal_by_notify_is_recorded_not_raised(db, real_notify, django_capture_on_commit_callbacks):
    responses.post(
        f"{BASE}/v2/notifications/sms",
        json={
            "status_code": 400,
            "errors": [{"error": "ValidationError", "message": "phone_number Not a UK mobile number"}],
        },
        status=400,
    )
    with django_capture_on_commit_callbacks(execute=True):
        message = notify.send_sms("01234", "questionnaire_link", {"link": "https://x/q/SECRET"})
    message.refresh_from_db()
    assert message.status == NotifyMessage.Status.TECHNICAL_FAILURE
    assert "Not a UK mobile number" in message.error and "SECRET" not in message.error
