"""Writes of questionnaire data and the per-referral outcome summary."""

import time

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, IntegerField, Q
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Cast
from django.utils import timezone

from common import audit
from common.scoping import rows_of
from common.standards import standards
from referrals.models import CareContact, PresentingProblemRecord

from . import queries, trajectories
from .metrics import referral_facts
from .models import OutcomeSummary, QuestionnaireResponse, Source, TrajectoryCell, TrajectoryFit
from .problems import ProblemRecord
from .scoring import RISK_ITEM, score


def record_questionnaire(*, contact, measure, answers=None, total=None, by):
    """Store one questionnaire with every item answer (or, for a measure recorded as a score, its score).
    Raises ScoringError on a bad answer."""
    result = score(measure, answers, total=total)
    return QuestionnaireResponse.objects.create(
        contact=contact,
        referral_id=contact.referral_id,
        measure=measure,
        completed_on=contact.date,
        items=list(result.items),
        total=result.total,
        created_by=by,
    )


def record_patient_questionnaire(*, referral, measure, answers, completed_on):
    """Store one questionnaire the patient completed on their own (no contact, no member of staff).
    Raises ScoringError on a bad answer. The caller (a front-door service) refreshes the summary, audits
    and raises the risk flag, in its own transaction."""
    result = score(measure, answers)
    return QuestionnaireResponse.objects.create(
        contact=None,
        referral_id=referral.pk,
        measure=measure,
        completed_on=completed_on,
        items=list(result.items),
        total=result.total,
        source=Source.PATIENT,
        created_by=None,
    )


# Valid scores: not entered in error, and either the patient's own (no contact) or at a valid contact.
VALID_SCORES = Q(entered_in_error=False) & (Q(contact__isnull=True) | Q(contact__entered_in_error=False))
# Within a day, the patient's own scores (completed before the session) come first.
SCORE_ORDER = (
    "completed_on",
    F("contact__time").asc(nulls_first=True),
    F("contact__created_at").asc(nulls_first=True),
    "created_at",
)


def _problem_rows(referral_ids):
    return (
        PresentingProblemRecord.objects.filter(referral_id__in=referral_ids)
        .order_by()
        .values_list("referral_id", "code", "significance", "recorded_on", "created_at", "problem")
    )


def _contact_rows(referral_ids):
    return (
        CareContact.objects.valid()
        .filter(referral_id__in=referral_ids)
        .order_by("referral_id", "date", "time", "created_at")
        .values_list("referral_id", "date", "appointment_type", "attendance")
    )


def _score_rows(referral_ids):
    return (
        QuestionnaireResponse.objects.filter(VALID_SCORES, referral_id__in=referral_ids)
        .order_by("referral_id", *SCORE_ORDER)
        .annotate(item9=Cast(KeyTextTransform(str(RISK_ITEM - 1), "items"), IntegerField()))
        .values_list("referral_id", "measure", "completed_on", "total", "item9")
    )


def problem_records(referral_ids):
    """{referral id: [ProblemRecord, ...]}: the presenting problems of these referrals (one query)."""
    out = {}
    for rid, *problem in _problem_rows(referral_ids):
        out.setdefault(rid, []).append(ProblemRecord(*problem))
    return out


def _rows(referral_ids):
    contacts, scores = {}, {}
    for rid, *contact in _contact_rows(referral_ids):
        contacts.setdefault(rid, []).append(tuple(contact))
    for rid, *found in _score_rows(referral_ids):
        scores.setdefault(rid, []).append(tuple(found))
    return contacts, scores, problem_records(referral_ids)


def compute_outcome(referral):
    """The paired outcome of one referral from its raw rows (entered-in-error rows ignored): the same
    three queries as ``refresh_summaries`` makes of many, compiled once (``rows_of``; a page asks this
    of one referral, and building the queries cost more than running them, issue 22)."""
    contacts = [row[1:] for row in rows_of("outcomes.contacts", lambda pk: _contact_rows([pk]), referral.pk)]
    scores = [row[1:] for row in rows_of("outcomes.scores", lambda pk: _score_rows([pk]), referral.pk)]
    problems = [
        ProblemRecord(*row[1:]) for row in rows_of("outcomes.problems", lambda pk: _problem_rows([pk]), referral.pk)
    ]
    policy = standards()
    _, outcome = referral_facts(
        contacts,
        scores,
        problems=problems,
        ended_on=referral.discharged_on,
        mixed_policy=policy["mixed_reliable_change"],
        min_treatment_contacts=policy["finished_treatment_min_contacts"],
    )
    return outcome


@transaction.atomic
def refresh_summaries(referrals):
    """Recompute the outcome summary rows of these referrals from their raw rows."""
    referrals = list(referrals)
    if not referrals:
        return 0
    policy = standards()
    contacts, scores, problems = _rows([r.pk for r in referrals])
    rows = []
    for referral in referrals:
        facts, _ = referral_facts(
            contacts.get(referral.pk, []),
            scores.get(referral.pk, []),
            problems=problems.get(referral.pk, []),
            ended_on=referral.discharged_on,
            mixed_policy=policy["mixed_reliable_change"],
            min_treatment_contacts=policy["finished_treatment_min_contacts"],
        )
        rows.append(OutcomeSummary(referral_id=referral.pk, team_id=referral.team_id, **facts))
    fields = [f.name for f in OutcomeSummary._meta.concrete_fields if f.name not in ("referral", "updated_at")]
    OutcomeSummary.objects.bulk_create(rows, update_conflicts=True, unique_fields=["referral"], update_fields=fields)
    return len(rows)


def refresh_summary(referral):
    refresh_summaries([referral])


# ---------------------------------------------------------------------------------------------
# Expected recovery curves


@transaction.atomic
def fit_trajectories(
    *,
    team,
    method=trajectories.DEFAULT_METHOD,
    min_n=trajectories.DEFAULT_MIN_N,
    max_session=trajectories.DEFAULT_MAX_SESSION,
    ended_from=None,
    ended_before=None,
    by=audit.REVIEW_ENGINE,
):
    """Fit a team's expected recovery curves from its finished courses (those ending before
    ``ended_before`` when given: the rest are held out for validation) and keep the fit as a new
    version. Audited; the review rule and the charts use the newest version from then on."""
    errors = {}
    try:
        how = trajectories.method(method)
    except ValueError as e:
        errors["method"] = str(e)
    if not isinstance(min_n, int) or min_n < 1:
        errors["min_n"] = "Give a whole number of at least 1."
    if not isinstance(max_session, int) or not 2 <= max_session <= 60:
        errors["max_session"] = "Give a whole number from 2 to 60."
    if ended_from and ended_before and ended_from >= ended_before:
        errors["ended_before"] = "The end of the fitted period must come after its start."
    if errors:
        raise ValidationError(errors)
    started = time.monotonic()
    team_id = getattr(team, "pk", team)
    courses, first, last = queries.finished_course_facts(team_id, ended_from=ended_from, ended_before=ended_before)
    cells = queries.fitted_cells(team_id, how, min_n, max_session, ended_from, ended_before)
    version = (
        TrajectoryFit.objects.select_for_update()
        .filter(team_id=team_id)
        .order_by("-version")
        .values_list("version", flat=True)
        .first()
        or 0
    ) + 1
    fit = TrajectoryFit.objects.create(
        team_id=team_id,
        version=version,
        method=how.name,
        min_n=min_n,
        max_session=max_session,
        courses=courses,
        scores=sum(c.n for c in cells),
        ended_from=first,
        ended_to=last,
        held_out_from=ended_before,
        fitted_at=timezone.now(),
        seconds=0,
    )
    TrajectoryCell.objects.bulk_create(
        [
            TrajectoryCell(fit=fit, measure=c.measure, band=c.band, session=c.session, n=c.n, values=list(c.values))
            for c in cells
        ],
        batch_size=1000,
    )
    fit.seconds = round(time.monotonic() - started, 3)
    fit.save(update_fields=["seconds"])
    queries.forget_curves(team_id)
    audit.record(
        by,
        "trajectories.fit",
        fit,
        changes={"version": version, "method": how.name, "courses": courses, "cells": len(cells), "min_n": min_n},
    )
    return fit
