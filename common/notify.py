"""Messages to patients through GOV.UK Notify: the one small adapter every app sends through.

``send_sms(phone, template_key, personalisation, referral=..., by=...)`` and ``send_email(...)`` record
a ``NotifyMessage`` (template, when, by whom, channel, a hint of the recipient: never the text) in the
caller's transaction, and hand the message over once it commits, so a rolled-back write sends nothing.
The personalisation (names, links carrying one-time tokens) lives in memory only until handed over.

Templates are named by key: ``settings.NOTIFY_TEMPLATES = {key: {"sms": template id, "email": ...}}``.
The backend follows the settings:

- ``NOTIFY_API_KEY`` set: ``notifications-python-client`` talks to Notify (``NOTIFY_BASE_URL``);
- otherwise (development, tests): the outbox backend keeps the messages in ``outbox`` (a list, like
  Django's locmem email backend), and marks them delivered.

Delivery status comes back by polling (``refresh_statuses``, a Celery beat task), since a status
callback needs a public HTTPS address a development machine does not have.
"""

import logging
from dataclasses import dataclass, field

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from .models import NotifyMessage

log = logging.getLogger(__name__)

outbox: list["OutboxMessage"] = []  # the outbox backend's messages, newest last (tests read and clear it)


class NotifyError(Exception):
    """A message could not be handed over (unknown template, Notify refused it)."""


@dataclass
class OutboxMessage:
    channel: str
    to: str
    template_key: str
    template_id: str
    personalisation: dict = field(default_factory=dict)
    reference: str = ""


class OutboxBackend:
    name = "outbox"

    def send(self, channel, to, template_id, personalisation, reference, template_key=""):
        outbox.append(OutboxMessage(channel, to, template_key, template_id, dict(personalisation), reference))
        return f"outbox-{reference}", NotifyMessage.Status.DELIVERED

    def status(self, notify_id):
        return NotifyMessage.Status.DELIVERED


# Notify's statuses (text messages and emails) and ours.
NOTIFY_STATUSES = {
    "created": NotifyMessage.Status.SENDING,
    "sending": NotifyMessage.Status.SENDING,
    "pending": NotifyMessage.Status.SENDING,
    "sent": NotifyMessage.Status.SENDING,  # to an international number: no receipt will follow
    "delivered": NotifyMessage.Status.DELIVERED,
    "permanent-failure": NotifyMessage.Status.PERMANENT_FAILURE,
    "temporary-failure": NotifyMessage.Status.TEMPORARY_FAILURE,
    "technical-failure": NotifyMessage.Status.TECHNICAL_FAILURE,
}


class NotifyBackend:
    """GOV.UK Notify through its own client library."""

    name = "notify"

    def __init__(self, api_key, base_url, timeout):
        # Imported here: only a deployment with a Notify key needs the client (and its HTTP stack) loaded.
        from notifications_python_client.notifications import NotificationsAPIClient

        self.client = NotificationsAPIClient(api_key, base_url=base_url, timeout=timeout)

    def send(self, channel, to, template_id, personalisation, reference, template_key=""):
        if channel == NotifyMessage.Channel.SMS:
            answer = self.client.send_sms_notification(
                phone_number=to, template_id=template_id, personalisation=personalisation, reference=reference
            )
        else:
            answer = self.client.send_email_notification(
                email_address=to, template_id=template_id, personalisation=personalisation, reference=reference
            )
        return answer["id"], NotifyMessage.Status.SENDING

    def status(self, notify_id):
        answer = self.client.get_notification_by_id(notify_id)
        return NOTIFY_STATUSES.get(answer.get("status"), NotifyMessage.Status.SENDING)


def backend():
    if getattr(settings, "NOTIFY_API_KEY", ""):
        return NotifyBackend(settings.NOTIFY_API_KEY, settings.NOTIFY_BASE_URL, settings.NOTIFY_TIMEOUT)
    return OutboxBackend()


def template_id(template_key, channel):
    try:
        return settings.NOTIFY_TEMPLATES[template_key][channel]
    except KeyError:
        raise NotifyError(f"No {channel} template {template_key!r} in settings.NOTIFY_TEMPLATES.") from None


def recipient_hint(channel, to):
    """Enough to recognise the recipient, not to contact them: "…678" or "…@example.org"."""
    to = (to or "").strip()
    if channel == NotifyMessage.Channel.EMAIL:
        return "…@" + to.rpartition("@")[2][:36] if "@" in to else ""
    digits = "".join(ch for ch in to if ch.isdigit())
    return f"…{digits[-3:]}" if digits else ""


def send_sms(phone, template_key, personalisation=None, *, referral=None, by=None):
    return _send(NotifyMessage.Channel.SMS, phone, template_key, personalisation, referral, by)


def send_email(email, template_key, personalisation=None, *, referral=None, by=None):
    return _send(NotifyMessage.Channel.EMAIL, email, template_key, personalisation, referral, by)


def _send(channel, to, template_key, personalisation, referral, by):
    """Record the message now; hand it over when the caller's transaction commits."""
    tid = template_id(template_key, channel)
    chosen = backend()
    message = NotifyMessage.objects.create(
        channel=channel,
        template_key=template_key,
        template_id=tid,
        recipient_hint=recipient_hint(channel, to),
        referral=referral,
        sent_by=by if getattr(by, "is_authenticated", False) else None,
        backend=chosen.name,
    )
    personalisation = dict(personalisation or {})
    transaction.on_commit(lambda: deliver(message.pk, to, personalisation, chosen))
    return message


def deliver(message_id, to, personalisation, chosen=None):
    """Hand one recorded message to the backend; its answer (Notify's id, a status, an error) is kept."""
    chosen = chosen or backend()
    message = NotifyMessage.objects.get(pk=message_id)
    try:
        notify_id, status = chosen.send(
            message.channel, to, message.template_id, personalisation, str(message.pk), message.template_key
        )
    except Exception as exc:  # Notify refused or could not be reached: say so on the record, never raise
        log.warning("Notify message %s not sent: %s", message.pk, type(exc).__name__)
        NotifyMessage.objects.filter(pk=message.pk).update(
            status=NotifyMessage.Status.TECHNICAL_FAILURE, error=_error_words(exc), status_at=timezone.now()
        )
        return None
    NotifyMessage.objects.filter(pk=message.pk).update(notify_id=notify_id, status=status, status_at=timezone.now())
    return notify_id


def _error_words(exc):
    """Notify's own message (it names the problem, e.g. a bad phone number), never the personalisation."""
    messages = getattr(exc, "message", None)
    if isinstance(messages, list):
        text = "; ".join(str(m.get("message", m)) if isinstance(m, dict) else str(m) for m in messages)
    else:
        text = str(messages or type(exc).__name__)
    return f"{getattr(exc, 'status_code', '')} {text}".strip()[:300]


def refresh_statuses(limit=500):
    """Ask Notify how the messages still on their way went (Celery beat). Returns how many changed."""
    chosen = backend()
    changed = 0
    pending = NotifyMessage.objects.filter(status=NotifyMessage.Status.SENDING).exclude(notify_id="")
    for message in pending.filter(backend=chosen.name).order_by("created_at")[:limit]:
        try:
            status = chosen.status(message.notify_id)
        except Exception as exc:  # one unreachable answer must not stop the others
            log.warning("Notify status of %s unknown: %s", message.pk, type(exc).__name__)
            continue
        if status != message.status:
            NotifyMessage.objects.filter(pk=message.pk).update(status=status, status_at=timezone.now())
            changed += 1
    return changed
