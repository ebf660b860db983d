"""Request-wide context for the audit trail (login for every page is Django's LoginRequiredMiddleware)."""

from .audit import client_address
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
