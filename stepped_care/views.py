"""Landing page: sends each role to where its day starts."""

from django.shortcuts import redirect, render


def home(request):
    # Clinicians live in their caseload.
    if request.user.is_clinician:
        return redirect("referrals:caseload")
    return render(request, "stepped_care/home.html")
