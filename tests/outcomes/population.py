"""A generated population of referrals built through the real services (log_contact, change_step,
discharge, mark_contact_in_error), so the outcome summary is kept current exactly as in production.

Varied on purpose: improving, flat, deteriorating, mixed and unscored trajectories; DNAs and
cancellations; assessment-only contacts; long first-to-second treatment gaps (hidden waits); waits
either side of 6 and 18 weeks; contacts entered in error; several clinicians, steps, problems and
LTC pathway; some referrals still open. Also, independently of the summary, the per-referral facts
the service metrics count, from the raw rows and the pure rule (``outcomes.services.compute_outcome``).
"""

from __future__ import annotations

import datetime as dt
import random

from outcomes.metrics import ATTENDED, DNA, TREATMENT
from outcomes.problems import UNSPECIFIED
from outcomes.scoring import INSTRUMENTS, adsm_for
from outcomes.services import compute_outcome
from referrals.models import CareContact, Referral
from referrals.services import create_patient, create_referral, log_contact, mark_contact_in_error
from stepped_care.services import change_step, discharge

PROBLEMS = ["depression", "gad", "mixed", "panic", "social_anxiety", "ptsd", "agoraphobia"]


def adsm_answers(measure, fraction, rng):
    """Item answers of a disorder-specific measure at ``fraction`` (0-1) of its range."""
    inst = INSTRUMENTS[measure]
    span = inst.item_max - inst.item_min
    raw = round(max(0.0, min(1.0, fraction)) * span * inst.item_count)
    return [inst.item_min + v for v in answers(raw, inst.item_count, span, rng)]


def answers(total, count, item_max, rng):
    """Item answers summing to ``total``; PHQ-9 item 9 kept at 0 (no risk note needed)."""
    slots = count - 1 if count == 9 else count
    total = max(0, min(total, slots * item_max))
    items = [0] * count
    for _ in range(total):
        open_slots = [i for i in range(slots) if items[i] < item_max]
        items[rng.choice(open_slots)] += 1
    return items


def build_population(*, team, clinicians, by, today, n=40, seed=7):
    """``n`` referrals of ``team``; returns them. Every write goes through a service."""
    rng = random.Random(seed)
    made = []
    for i in range(n):
        patient = create_patient(
            by=by, team=team, given_name="Pat", family_name=f"Population{seed}-{i}", date_of_birth=dt.date(1980, 1, 1)
        )
        received = today - dt.timedelta(days=rng.randint(20, 420))
        coordinator = rng.choice([*clinicians, None]) if rng.random() < 0.9 else None
        referral = create_referral(
            by=by,
            patient=patient,
            received_on=received,
            source="gp",
            presenting_problem=rng.choice(PROBLEMS),
            care_coordinator=coordinator,
            ltc_pathway=rng.random() < 0.3,
        )
        made.append(referral)
        clinician = coordinator or rng.choice(clinicians)
        day = received + dt.timedelta(days=rng.choice([3, 20, 41, 42, 43, 90, 126, 127, 150]))
        if day > today:
            continue
        kind = rng.choice(["improving", "flat", "deteriorating", "mixed", "unscored", "not_case"])
        phq, gad = rng.randint(10, 24), rng.randint(8, 21)
        if kind == "not_case":
            phq, gad = rng.randint(0, 9), rng.randint(0, 7)
        scored = kind != "unscored"
        adsm = adsm_for(UNSPECIFIED[referral.presenting_problem])
        adsm = adsm if adsm and rng.random() < 0.6 else None  # some are measured with GAD-7 only

        def scores(p, g, scored=scored, adsm=adsm):
            if not scored:
                return {}
            given = {"phq9": answers(p, 9, 3, rng), "gad7": answers(g, 7, 3, rng)}
            if adsm and rng.random() < 0.8:
                given["questionnaires"] = [{"measure": adsm, "items": adsm_answers(adsm, g / 21, rng)}]
            return given

        log_contact(
            referral=referral, by=clinician, date=day, appointment_type="01", attendance="5", **scores(phq, gad)
        )
        change_step(referral=referral, step=rng.choice([2, 2, 3]), reason="Assessed", by=clinician, on=day)
        sessions = rng.choice([0, 1, 2, 3, 4, 6, 8])
        end_phq, end_gad = {
            "improving": (rng.randint(2, 9), rng.randint(1, 7)),
            "flat": (phq + rng.randint(-3, 3), gad + rng.randint(-3, 3)),
            "deteriorating": (phq + rng.randint(6, 9), gad + rng.randint(4, 6)),
            "mixed": (phq - rng.randint(6, 9), gad + rng.randint(4, 6)),
            "unscored": (0, 0),
            "not_case": (phq + rng.randint(-2, 7), gad + rng.randint(-2, 5)),
        }[kind]
        for s in range(sessions):
            gap = 100 if (s == 1 and rng.random() < 0.3) else rng.choice([7, 7, 14])
            if s == 0:
                gap = rng.choice([1, 7, 30, 80])
            day += dt.timedelta(days=gap)
            if day > today:
                break
            attendance = rng.choices(["5", "6", "3", "2", "4", "7"], [70, 8, 10, 5, 4, 3])[0]
            appointment = rng.choices(["02", "03", "05", "01"], [70, 10, 10, 10])[0]
            frac = (s + 1) / sessions
            p = round(phq + (end_phq - phq) * frac)
            g = round(gad + (end_gad - gad) * frac)
            p, g = max(0, min(24, p)), max(0, min(21, g))
            contact = log_contact(
                referral=referral,
                by=clinician,
                date=day,
                appointment_type=appointment,
                attendance=attendance,
                **(scores(p, g) if attendance in ATTENDED and rng.random() < 0.9 else {}),
            )
            if rng.random() < 0.06:
                mark_contact_in_error(contact=contact, reason="Logged against the wrong patient", by=clinician)
        if rng.random() < 0.85:
            discharge(
                referral=referral,
                end_code="46",
                by=clinician,
                discharged_on=min(today, day + dt.timedelta(days=rng.randint(0, 10))),
            )
    return [Referral.objects.get(pk=r.pk) for r in made]


def facts_from_raw_rows(referral):
    """What the service metrics count for one referral, from its raw rows, without the summary."""
    outcome = compute_outcome(referral)
    contacts = list(CareContact.objects.valid().filter(referral=referral).order_by("date", "time", "created_at"))
    treatment = [c.date for c in contacts if c.attendance in ATTENDED and c.appointment_type in TREATMENT]
    first = treatment[0] if treatment else None
    second = treatment[1] if len(treatment) > 1 else None
    wait = (first - referral.received_on).days if first else None
    return {
        "referral": referral,
        "outcome": outcome,
        "ended_on": referral.discharged_on,
        "wait_days": wait,
        "gap_days": (second - first).days if second else None,
        "dna_count": sum(1 for c in contacts if c.attendance == DNA),
        "contact_count": len(contacts),
    }


def count_in_python(facts, *, team=None, start=None, end=None, clinician=None, step=None, problem=None, ltc=None):
    """The service-metric counts, counted one referral at a time (the reference for the database)."""
    counts = dict.fromkeys(
        [
            "finished",
            "not_caseness",
            "at_caseness",
            "not_computable",
            "specific_anxiety",
            "measured_with_adsm",
            "recovered",
            "reliable_improvement",
            "reliable_deterioration",
            "reliable_recovery",
            "waits_measured",
            "within_6_weeks",
            "within_18_weeks",
            "second_contact_measured",
            "hidden_waits",
            "with_dna",
            "dna_count",
            "contact_count",
        ],
        0,
    )
    ids = {name: set() for name in counts}
    for f in facts:
        r, o = f["referral"], f["outcome"]
        if not o.finished_treatment or f["ended_on"] is None:
            continue
        if team is not None and r.team_id != team:
            continue
        if start is not None and f["ended_on"] < start or end is not None and f["ended_on"] > end:
            continue
        if clinician is not None and (r.care_coordinator_id or 0) != clinician:
            continue
        if step is not None and (r.current_step or 0) != step:
            continue
        if problem is not None and r.presenting_problem != problem:
            continue
        if ltc is not None and r.ltc_pathway != ltc:
            continue
        hits = {
            "finished": True,
            "not_caseness": o.caseness_at_start is False,
            "at_caseness": o.caseness_at_start is not False,
            "not_computable": not o.computable,
            "specific_anxiety": o.adsm is not None,
            "measured_with_adsm": o.adsm is not None and o.anxiety_measure == o.adsm,
            "recovered": o.recovered is True,
            "reliable_improvement": o.reliable_improvement is True,
            "reliable_deterioration": o.reliable_deterioration is True,
            "reliable_recovery": o.reliable_recovery is True,
            "waits_measured": f["wait_days"] is not None,
            "within_6_weeks": f["wait_days"] is not None and f["wait_days"] <= 42,
            "within_18_weeks": f["wait_days"] is not None and f["wait_days"] <= 126,
            "second_contact_measured": f["gap_days"] is not None,
            "hidden_waits": f["gap_days"] is not None and f["gap_days"] > 90,
            "with_dna": f["dna_count"] > 0,
        }
        for name, hit in hits.items():
            if hit:
                counts[name] += 1
                ids[name].add(r.pk)
        counts["dna_count"] += f["dna_count"]
        counts["contact_count"] += f["contact_count"]
    return counts, ids
