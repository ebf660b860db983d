"""Landing page: sends each role to where its day starts."""

from django.shortcuts import redirect, render


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
