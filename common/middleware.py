"""Request-wide context for the audit trail (login for every page is Django's LoginRequiredMiddleware), and
the answer to a statement the database gave up on."""

from .api_errors import database_busy
from .audit import client_address
from .database import is_database_busy
from .security import client_ip


class AuditContextMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        token = client_address.set(client_ip(request))
        try:
            return self.get_response(request)
        finally:
            client_address.reset(token)


class DatabaseBusyMiddleware:
    """A statement cancelled by the web statement timeout (or a lock timeout) answers 503 "busy, nothing was
    saved, try again", not a 500: the service's transaction has rolled back, so a retry duplicates nothing.
    DRF views answer the same through common.api_errors' exception handler."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if is_database_busy(exception):
            return database_busy(request)
        return None
