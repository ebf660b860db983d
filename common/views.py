"""Landing page (sends each role to where its day starts) and the sign-in page."""

from django.contrib.auth import views as auth_views
from django.shortcuts import redirect, render

from .security import address_refusal


def home(request):
    # Clinicians live in their caseload.
    if request.user.is_clinician:
        return redirect("referrals:caseload")
    # Managers and administrators start from the service dashboard of their team.
    if (request.user.is_manager or request.user.is_administrator) and (
        request.user.team_id or request.user.is_superuser
    ):
        return redirect("dashboard:index")
    return render(request, "common/home.html")


class SignInView(auth_views.LoginView):
    """Django's sign-in page, refusing an address that has failed too often (django-axes still locks
    the username at that address after AXES_FAILURE_LIMIT)."""

    redirect_authenticated_user = True

    def post(self, request, *args, **kwargs):
        return address_refusal(request) or super().post(request, *args, **kwargs)
