"""The 30-minute idle sign-out, refreshed at most once a minute (issue 22.1).

``SESSION_SAVE_EVERY_REQUEST`` wrote the session (sign, encode, an UPDATE) on every request only to move
its expiry on. This middleware moves it on when the last refresh is a minute old or more: the session
then expires 30 minutes after its last refresh, which is at most a minute before the last request. So
someone idle for 30 minutes is always signed out, and never later than 30 minutes after their last
request; at worst a minute earlier. A session that is changed anyway (sign-in, a remembered search) is
saved as before and counts as a refresh.
"""

import logging
import time

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.signals import user_logged_in
from django.contrib.sessions.backends.db import SessionStore as DatabaseSessionStore
from django.core.exceptions import SuspiciousOperation
from django.dispatch import receiver
from django.utils import timezone

from .scoping import objects_of

REFRESHED = "_refreshed_at"  # seconds since the epoch, the session's last refresh
REFRESH_EVERY = 60


class IdleRefreshMiddleware:
    """Inside SessionMiddleware (listed after it): it marks the session modified before that saves."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        session = getattr(request, "session", None)
        # A request that never read the session (no sign-in looked at) leaves it as it is.
        if session is None or not session.accessed or session.is_empty():
            return response
        now = int(time.time())
        if session.modified or now - session.get(REFRESHED, 0) >= REFRESH_EVERY:
            refresh(session, now)
        return response


def refresh(session, now=None):
    """Move the idle expiry on now (the session is saved with the response)."""
    session[REFRESHED] = int(time.time()) if now is None else now


@receiver(user_logged_in, dispatch_uid="common.sessions.refreshed_at_sign_in")
def refreshed_at_sign_in(sender, request, user, **kwargs):
    """Signing in writes the session (a new key): that is its first refresh."""
    session = getattr(request, "session", None)
    if session is not None:
        refresh(session)


class SessionStore(DatabaseSessionStore):
    """Django's database sessions (``SESSION_ENGINE = "common.sessions"``), the session read on every
    request by a statement the ORM compiles once per process (``scoping.objects_of``): compiling the
    read cost more than running it (issue 22.1). Writing, expiry and sign-out are Django's own."""

    def _get_session_from_db(self):
        try:
            found = objects_of("sessions.current", _current_session, self.session_key, timezone.now())
        except SuspiciousOperation as e:  # as Django's own store answers it
            logging.getLogger(f"django.security.{e.__class__.__name__}").warning(str(e))
            found = []
        if not found:
            self._session_key = None
            return None
        return found[0]


def _current_session(key, now):
    from django.contrib.sessions.models import Session  # the sessions app's models, loaded after this engine module

    return Session.objects.filter(session_key=key, expire_date__gt=now)


class StaffBackend(ModelBackend):
    """Django's ModelBackend, but the signed-in member of staff is read with their team (which nearly
    every page shows or scopes by) in one statement compiled once per process (issue 22.1)."""

    def get_user(self, user_id):
        try:
            pk = get_user_model()._meta.pk.to_python(user_id)
        except Exception:  # noqa: BLE001 - a session's id that is no id is nobody, as in ModelBackend
            return None
        found = objects_of("auth.signed_in", _staff_with_team, pk)
        user = found[0] if found else None
        return user if user is not None and self.user_can_authenticate(user) else None


def _staff_with_team(pk):
    return get_user_model()._default_manager.select_related("team").filter(pk=pk)
