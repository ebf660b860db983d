"""The 30-minute idle sign-out, refreshed at most once a minute (issue 22.1).

``SESSION_SAVE_EVERY_REQUEST`` wrote the session (sign, encode, an UPDATE) on every request only to move
its expiry on. This middleware moves it on when the last refresh is a minute old or more: the session
then expires 30 minutes after its last refresh, which is at most a minute before the last request. So
someone idle for 30 minutes is always signed out, and never later than 30 minutes after their last
request; at worst a minute earlier. A session that is changed anyway (sign-in, a remembered search) is
saved as before and counts as a refresh.
"""

import time

from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver

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
