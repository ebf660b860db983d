"""The public pages (no sign-in): the self-referral form, page by page with its answers kept in the session
(works without JavaScript), and the questionnaire link; and the clinician's "send a link" action.

Every POST is rate limited per address and per form (django-ratelimit, settings FRONTDOOR_RATES)."""

import datetime as dt

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect
from django.shortcuts import render as django_render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_ratelimit.core import is_ratelimited

from common import permissions
from common.security import client_ip
from outcomes.scoring import INSTRUMENTS, PHQ9
from referrals.models import Referral

from . import forms, queries, rules, services

STEPS = ("crisis", "eligibility", "details", "contact", "help", "PHQ9", "GAD7", "adsm", "check")
STEP_TITLES = {
    "crisis": "Do you need help now?",
    "eligibility": "Who this service is for",
    "details": "Your details",
    "contact": "How we may contact you",
    "help": "What you would like help with",
    "PHQ9": "How you have been feeling",
    "GAD7": "Feeling anxious or worried",
    "adsm": "About your difficulty",
    "check": "Check your answers",
}
INVALID = 400


DEFAULTS = {"back": None, "urgent": False, "form_errors": False, "error_links": [], "date_parts": None}


def render(request, template, context=None, status=200):
    """Every public page knows its service's name and has the base template's variables."""
    context = {**DEFAULTS, **(context or {})}
    team = context.get("team") or getattr(context.get("front_door"), "team", None)
    context["service_name"] = team.name if team else "NHS Talking Therapies"
    return django_render(request, template, context, status=status)


def _address(group, request):
    return client_ip(request) or "unknown"


def _limited(request, name, key=_address):
    """django-ratelimit: True when this address (or this form, with ``key``) is over its rate for ``name``."""
    rate = settings.FRONTDOOR_RATES.get(name)
    return bool(rate) and is_ratelimited(
        request, group=f"frontdoor-{name}", key=key, rate=rate, method=is_ratelimited.ALL, increment=True
    )


def _too_many(request, front_door=None):
    response = render(request, "frontdoor/too_many.html", {"front_door": front_door}, status=429)
    response["Retry-After"] = "600"
    return response


def _form_key(slug):
    return lambda group, request: f"form:{slug}"


# --- the self-referral form --------------------------------------------------------------------


@login_not_required
@never_cache
@require_GET
def index(request):
    """/refer/: the services taking self-referrals (linked from the sign-in page)."""
    return render(request, "frontdoor/index.html", {"front_doors": queries.open_front_doors()})


def _door(slug):
    door = queries.front_door(slug)
    if door is None:
        raise Http404("No such service")
    return door


def _answers(request, door):
    return request.session.get(f"frontdoor:{door.slug}", {})


def _keep(request, door, answers):
    request.session[f"frontdoor:{door.slug}"] = answers


def _steps(answers):
    """The pages this person goes through (the ADSM page only when their difficulty calls for one)."""
    return [s for s in STEPS if s != "adsm" or rules.adsm_measures(answers.get("help_with"))]


def _next_missing(answers):
    return next((s for s in _steps(answers) if s != "check" and s not in answers.get("done", [])), "check")


@login_not_required
@never_cache
@require_GET
def start(request, slug):
    door = _door(slug)
    return render(request, "frontdoor/start.html", {"front_door": door, "steps": len(_steps({}))})


@login_not_required
@never_cache
@require_http_methods(["GET", "POST"])
def step(request, slug, page):
    name = page
    door = _door(slug)
    if name not in STEPS:
        raise Http404("No such page")
    answers = _answers(request, door)
    steps = _steps(answers)
    if name not in steps:
        return redirect("frontdoor:step", slug=slug, page=_next_missing(answers))
    position = steps.index(name)
    missing = _next_missing(answers)
    if position > steps.index(missing):
        return redirect("frontdoor:step", slug=slug, page=missing)  # pages in order: none skipped
    if request.method == "POST" and (_limited(request, "step") or _limited(request, "form", _form_key(slug))):
        return _too_many(request, door)
    if name == "check":
        return _check(request, door, answers, steps)
    form = _form(request, door, name, answers)
    if request.method == "POST" and form is not None:
        if getattr(form, "is_bot", lambda: False)():
            services.record_stop(door, "honeypot")
            request.session.pop(f"frontdoor:{door.slug}", None)
            return render(request, "frontdoor/done.html", {"front_door": door})
        if all(f.is_valid() for f in _all(form)):
            stop = _save(request, door, name, form, answers)
            if stop is not None:
                return stop
            return redirect("frontdoor:step", slug=slug, page=_next_missing(answers))
    back = (
        reverse("frontdoor:step", args=[slug, steps[position - 1]])
        if position
        else reverse("frontdoor:start", args=[slug])
    )
    return render(
        request,
        "frontdoor/step.html",
        {
            "front_door": door,
            "name": name,
            "title": STEP_TITLES[name],
            "forms": _all(form),
            "number": position + 1,
            "count": len(steps),
            "back": back,
            "urgent": answers.get("risk", False),
            "measures": [(f, f.instrument) for f in _all(form) if isinstance(f, forms.MeasureForm)],
            "error_links": forms.error_links(*_all(form)),
            "form_errors": any(f.errors for f in _all(form)),
            "date_parts": forms.date_parts(form.dob_parts()) if hasattr(form, "dob_parts") else None,
        },
        status=INVALID if request.method == "POST" else 200,
    )


def _all(form):
    return form if isinstance(form, list) else [form]


def _form(request, door, name, answers):
    data = request.POST if request.method == "POST" else None
    initial = answers.get(name) or {}
    if name == "crisis":
        return forms.CrisisForm(data, initial=initial)
    if name == "eligibility":
        return forms.EligibilityForm(data, initial=initial, practices=queries.practices(door))
    if name == "details":
        return forms.DetailsForm(data, initial=initial)
    if name == "contact":
        return forms.ContactForm(data, initial=initial)
    if name == "help":
        return forms.HelpForm(data, initial=initial)
    if name in (PHQ9, "GAD7"):
        return forms.MeasureForm(data, measure=name, initial=_items(answers, name))
    if name == "adsm":
        return [
            forms.MeasureForm(data, measure=m, prefix=m, initial=_items(answers, m))
            for m in rules.adsm_measures(answers.get("help_with"))
        ]
    raise Http404("No such page")


def _items(answers, measure):
    return {f"item_{n}": v for n, v in enumerate(answers.get("scores", {}).get(measure) or [], start=1)}


def _save(request, door, name, form, answers):
    """Keep one page's answers in the session; stop the form where it must stop."""
    if name == "crisis":
        if form.cleaned_data["crisis"] == "yes":
            services.record_stop(door, "crisis")
            request.session.pop(f"frontdoor:{door.slug}", None)
            return render(request, "frontdoor/crisis.html", {"front_door": door})
        answers["crisis"] = {"crisis": "no"}
    elif name == "eligibility":
        dob = form.cleaned_data["date_of_birth"]
        problem = rules.eligibility_problem(
            date_of_birth=dob,
            practice_listed=form.cleaned_data["practice_id"] in dict(queries.practices(door)),
            min_age=door.min_age,
            max_age=door.max_age,
            today=timezone.localdate(),
        )
        if problem:
            services.record_stop(door, "not eligible")
            request.session.pop(f"frontdoor:{door.slug}", None)
            return render(request, "frontdoor/not_eligible.html", {"front_door": door, "problem": problem})
        answers["eligibility"] = {"date_of_birth": dob.isoformat(), "practice_id": form.cleaned_data["practice_id"]}
    elif name in (PHQ9, "GAD7") or name == "adsm":
        scores = answers.setdefault("scores", {})
        for f in _all(form):
            scores[f.measure] = f.answers()
        if name == PHQ9:
            answers["risk"] = rules.at_risk(scores[PHQ9])
    else:
        answers[name] = dict(form.cleaned_data)
        if name == "help":
            answers["help_with"] = form.cleaned_data["help_with"]
            keep = set(rules.measures_for(answers["help_with"]))
            answers["scores"] = {m: v for m, v in answers.get("scores", {}).items() if m in keep}
            answers["done"] = [d for d in answers.get("done", []) if d != "adsm"]
    answers["done"] = sorted({*answers.get("done", []), name})
    _keep(request, door, answers)
    return None


def _service_data(answers):
    details, contact, help_ = answers.get("details", {}), answers.get("contact", {}), answers.get("help", {})
    eligibility = answers.get("eligibility", {})
    dob = eligibility.get("date_of_birth")
    return {
        "date_of_birth": dt.date.fromisoformat(dob) if dob else None,
        "practice_id": eligibility.get("practice_id"),
        **{k: details.get(k, "") for k in ("given_name", "family_name", "nhs_number")},
        **{k: contact.get(k, "") for k in ("phone", "email", "address", "postcode")},
        "contact_by": contact.get("contact_by", []),
        "help_with": help_.get("help_with"),
        "help_words": help_.get("help_words", ""),
        "scores": answers.get("scores", {}),
    }


def _check(request, door, answers, steps):
    form = forms.CheckForm(request.POST or None)
    errors = {}
    if request.method == "POST":
        if _limited(request, "submit") or _limited(request, "submit_form", _form_key(door.slug)):
            return _too_many(request, door)
        if form.is_bot():
            services.record_stop(door, "honeypot")
            request.session.pop(f"frontdoor:{door.slug}", None)
            return render(request, "frontdoor/done.html", {"front_door": door})
        try:
            services.submit_self_referral(front_door=door, data=_service_data(answers))
        except ValidationError as exc:
            services.record_stop(door, "invalid")
            errors = exc.message_dict
        else:
            request.session.pop(f"frontdoor:{door.slug}", None)
            request.session[f"frontdoor:{door.slug}:done"] = {"risk": bool(answers.get("risk"))}
            return redirect("frontdoor:done", slug=door.slug)
    practices = dict(queries.practices(door))
    data = _service_data(answers)
    summary = [
        ("Date of birth", f"{data['date_of_birth']:%-d %B %Y}" if data["date_of_birth"] else "", "eligibility"),
        ("GP practice", practices.get(data["practice_id"], ""), "eligibility"),
        ("Name", f"{data['given_name']} {data['family_name']}", "details"),
        ("NHS number", data["nhs_number"] or "Not given", "details"),
        ("Contact by", ", ".join(dict(forms.CONTACT_CHOICES)[c] for c in data["contact_by"]), "contact"),
        ("Mobile phone", data["phone"] or "Not given", "contact"),
        ("Email", data["email"] or "Not given", "contact"),
        ("Help with", rules.HELP_WITH_WORDS.get(data["help_with"], ""), "help"),
        *[
            (INSTRUMENTS[m].name, "Answered", m if m in (PHQ9, "GAD7") else "adsm")
            for m in rules.measures_for(data["help_with"])
        ],
    ]
    return render(
        request,
        "frontdoor/check.html",
        {
            "front_door": door,
            "form": form,
            "summary": summary,
            "errors": errors,
            "number": len(steps),
            "count": len(steps),
            "urgent": answers.get("risk", False),
            "back": reverse("frontdoor:step", args=[door.slug, steps[-2]]),
        },
        status=INVALID if errors else 200,
    )


@login_not_required
@never_cache
@require_GET
def done(request, slug):
    door = _door(slug)
    outcome = request.session.get(f"frontdoor:{slug}:done")
    if outcome is None:
        return redirect("frontdoor:start", slug=slug)
    return render(request, "frontdoor/done.html", {"front_door": door, "urgent": outcome.get("risk")})


# --- the questionnaire link ------------------------------------------------------------------------


SESSION_LINK = "frontdoor:link"


@login_not_required
@never_cache
@require_http_methods(["GET", "POST"])
def questionnaire_link(request, token):
    """/q/<token>/: confirm the date of birth, then answer the questionnaires, then thanks."""
    if request.method == "POST" and _limited(request, "link"):
        return _too_many(request)
    link = queries.link_by_hash(services.hash_token(token))
    problem = services.link_problem(link)
    if problem:
        return render(request, "frontdoor/link_problem.html", {"problem": problem}, status=404 if link is None else 410)
    verified = request.session.get(SESSION_LINK) == str(link.pk) and link.verified_at is not None
    team = link.referral.team
    if not verified:
        form = forms.DateOfBirthForm(request.POST or None)
        if request.method == "POST":
            if form.is_bot():
                return render(request, "frontdoor/link_problem.html", {"problem": "Thank you."}, status=200)
            if form.is_valid():
                try:
                    ok = services.check_date_of_birth(token=token, date_of_birth=form.cleaned_data["date_of_birth"])
                except services.LinkUnusable as exc:
                    return render(request, "frontdoor/link_problem.html", {"problem": exc.message}, status=410)
                if ok:
                    request.session.cycle_key()
                    request.session[SESSION_LINK] = str(link.pk)
                    return redirect("frontdoor:questionnaire_link", token=token)
                form.add_error("date_of_birth", "The date of birth does not match our records. Check it and try again")
        return render(
            request,
            "frontdoor/link_verify.html",
            {
                "form": form,
                "team": team,
                "error_links": forms.error_links(form),
                "form_errors": bool(form.errors),
                "date_parts": forms.date_parts(form.dob_parts()),
            },
            status=INVALID if request.method == "POST" else 200,
        )
    measure_forms = [
        forms.MeasureForm(request.POST or None, measure=m, prefix=m) for m in link.measures if m in INSTRUMENTS
    ]
    errors = {}
    if request.method == "POST" and all(f.is_valid() for f in measure_forms):
        try:
            _, risk = services.complete_questionnaires(
                token=token, scores={f.measure: f.answers() for f in measure_forms}
            )
        except ValidationError as exc:
            errors = exc.message_dict
        except services.LinkUnusable as exc:
            return render(request, "frontdoor/link_problem.html", {"problem": exc.message}, status=410)
        else:
            request.session.pop(SESSION_LINK, None)
            return render(request, "frontdoor/link_done.html", {"team": team, "urgent": risk})
    return render(
        request,
        "frontdoor/link_questions.html",
        {
            "measures": [(f, f.instrument) for f in measure_forms],
            "team": team,
            "errors": errors,
            "error_links": forms.error_links(*measure_forms),
            "form_errors": bool(errors) or any(f.errors for f in measure_forms),
        },
        status=INVALID if request.method == "POST" else 200,
    )


# --- the clinician's action --------------------------------------------------------------------------


@require_POST
def send_link(request, pk):
    """From the referral page: send the patient a questionnaire link by text or email."""
    referral = get_object_or_404(Referral.objects.visible_to(request.user), pk=pk)
    permissions.require_role(request.user, "send_questionnaires")
    try:
        link = services.send_questionnaire_link(
            referral=referral,
            channel=request.POST.get("channel", ""),
            by=request.user,
            url_for=lambda token: request.build_absolute_uri(reverse("frontdoor:questionnaire_link", args=[token])),
        )
    except ValidationError as exc:
        messages.error(request, " ".join(m for ms in exc.message_dict.values() for m in ms))
    else:
        how = "text message" if link.channel == "sms" else "email"
        messages.success(request, f"Questionnaire link sent by {how}; it works once, for {services.LINK_DAYS} days.")
    return redirect("referrals:detail", pk=referral.pk)
