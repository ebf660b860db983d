"""Landing page (sends each role to where its day starts), the sign-in page, and the page that says
who may when someone may not."""

from django.contrib.auth import views as auth_views
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET

from . import api_errors, permissions
from .security import address_refusal


@require_GET
def home(request):
    # Clinicians live in their caseload.
    if permissions.may(request.user, "record_care"):
        return redirect("referrals:caseload")
    # Managers and administrators start from the service dashboard of their team.
    if permissions.may(request.user, "see_dashboard"):
        return redirect("dashboard:index")
    return render(request, "common/home.html")


class SignInView(auth_views.LoginView):
    """Django's sign-in page, refusing an address that has failed too often (django-axes still locks
    the username at that address after AXES_FAILURE_LIMIT)."""

    redirect_authenticated_user = True

    def post(self, request, *args, **kwargs):
        return address_refusal(request) or super().post(request, *args, **kwargs)


def permission_denied(request, exception=None):
    """handler403: a page inside the app saying what was refused and who may (from the rulebook), not
    a bare "403 Forbidden". The API answers its problem document (common.api_errors)."""
    if api_errors.is_api(request):
        return api_errors.permission_denied(request, exception)
    context = {
        "message": str(exception) if exception is not None and exception.args else "",
        "what": getattr(exception, "what", ""),
        "who": getattr(exception, "who", ""),
        "roles": getattr(exception, "roles", []),
    }
    return render(request, "403.html", context, status=403)
