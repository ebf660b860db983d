"""Resolving a review flag from the browser: parse the form, call the service, go back."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import NoReverseMatch, reverse
from django.views.decorators.http import require_http_methods

from common import audit, permissions
from common.exceptions import Conflict
from common.redirects import safe_next

from . import queries, services
from .forms import FlagResolveForm
from .models import FlagStatus


def _back(request, flag):
    try:
        fallback = reverse("referrals:detail", args=[flag.referral_id])
    except NoReverseMatch:
        fallback = reverse("home")
    return safe_next(request, fallback)


@require_http_methods(["GET", "POST"])
def flag_resolve(request, pk):
    flag = get_object_or_404(queries.flags_visible_to(request.user).select_related("referral__patient"), pk=pk)
    back = _back(request, flag)
    allowed = permissions.may(request.user, "resolve_flag", flag.referral) and flag.status == FlagStatus.OPEN
    if request.method == "POST":  # the service decides who may (a refusal is the 403 page)
        form = FlagResolveForm(request.POST, flag=flag)
        if form.is_valid():
            data = {k: v for k, v in form.cleaned_data.items() if v not in (None, "")}
            try:
                services.resolve_flag(flag=flag, by=request.user, **data)
            except Conflict as exc:
                messages.error(request, exc.message)
                return redirect(back)
            except ValidationError as exc:
                for field, errors in exc.message_dict.items():
                    form.add_error(field if field in form.fields else None, errors)
            else:
                verb = "accepted" if data["action"] == "accept" else "dismissed"
                messages.success(request, f"{flag.get_rule_display()} flag {verb}.")
                return redirect(back)
    else:
        form = FlagResolveForm(flag=flag)
        audit.record(request.user, "flag.view", flag, patient_id=flag.referral.patient_id)
    return render(
        request,
        "stepped_care/flag_resolve.html",
        {"flag": flag, "form": form, "back": back, "allowed": allowed},
    )
