"""Landing page, and the page that says who may when someone may not."""

from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET

from . import permissions


@require_GET
def home(request):
    # Clinicians live in their caseload.
    if permissions.may(request.user, "record_care"):
        return redirect("referrals:caseload")
    # Managers and administrators start from the service dashboard of their team.
    if permissions.may(request.user, "see_dashboard"):
        return redirect("dashboard:index")
    return render(request, "common/home.html")


def permission_denied(request, exception=None):
    """handler403: a page inside the app saying what was refused and who may (from the rulebook), not
    a bare "403 Forbidden". API clients get JSON (DRF answers its own views; this covers the rest)."""
    message = str(exception) if exception is not None and exception.args else ""
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": message or "You do not have permission to do this."}, status=403)
    context = {
        "message": message,
        "what": getattr(exception, "what", ""),
        "who": getattr(exception, "who", ""),
        "roles": getattr(exception, "roles", []),
    }
    return render(request, "403.html", context, status=403)
