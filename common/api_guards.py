"""What every API request passes through before and after its view.

- ``ApiGuardMiddleware``: a body over ``API_MAX_BODY_BYTES`` is refused with a 413 problem before anyone
  reads it, and every API answer says ``Cache-Control: no-store`` (they carry patient details; the HTML
  pages already say so through ``never_cache``).
- ``common.parsers.JSONParser``: DRF's, but a body nested too deep is a 400, not a RecursionError (500).
"""

from django.conf import settings
from django.utils.cache import add_never_cache_headers

from .api_errors import BODY_TOO_LARGE, is_api, problem_response


def max_body_bytes():
    return int(getattr(settings, "API_MAX_BODY_BYTES", 1024 * 1024))


class ApiGuardMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not is_api(request):
            return self.get_response(request)
        response = self._too_large(request) or self.get_response(request)
        add_never_cache_headers(response)  # Cache-Control: max-age=0, no-cache, no-store, must-revalidate, private
        return response

    def _too_large(self, request):
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return problem_response(400, "The Content-Length header is not a number.", code="bad_request")
        if length > max_body_bytes():
            limit = max_body_bytes() // 1024
            return problem_response(
                413, f"{BODY_TOO_LARGE} The limit is {limit} KiB; nothing was saved.", code="request_too_large"
            )
        return None
