"""Review rules: a referral's history in, explainable findings out. Pure: no ORM, no clock.

Stepped care's second principle (seed 001) is scheduled review that detects non-improvement and acts
on it. Each rule below looks at one referral's valid history (entered-in-error rows already left out)
on the day ``today`` it is given, and returns at most one finding: which rule, what it recommends, how
urgent, the evidence (scores and dates) and an *episode* key. The episode names the occurrence of the
condition (e.g. "the PHQ-9 of 3 Mar 2026"), so that a flag a clinician has dismissed is not raised
again for the same occurrence, while a new occurrence is. Evidence holds dates, never "days ago", so
that re-running the review on a later day changes nothing unless the data or the severity changed.

Rule parameters (defaults below; a team overrides any of them in ``Team.review_parameters``):

=============================  =======================================  ==========================================
parameter                      default                                  meaning in plain words
=============================  =======================================  ==========================================
``rules``                      all seven rules                          which rules this team runs
``risk_item9_above``           0                                        PHQ-9 item 9 (thoughts of being better off
                                                                        dead or of self-harm) above this at the
                                                                        latest PHQ-9 raises an urgent risk review
``not_improving_contacts``     {"2": 4, "3": 8}                         attended treatment contacts at the current
                                                                        step (counted from the day the step began)
                                                                        after which a referral without reliable
                                                                        improvement from its first scores is
                                                                        flagged "not improving"; steps not listed
                                                                        are not checked. The flag is reviewed
                                                                        again at every further multiple (8, 12...)
``recovered_scores``           2                                        how many latest scored sessions must all
                                                                        have PHQ-9 and GAD-7 below caseness
                                                                        (PHQ-9 < 10, GAD-7 < 8) to suggest
                                                                        stepping down or out
``disengaging_dnas``           2                                        did-not-attend in a row (cancellations do
                                                                        not break the run, an attended contact
                                                                        does) that flag disengagement
``disengaging_days``           28                                       days in treatment without an attended
                                                                        contact that flag disengagement
``review_overdue_days``        28                                       days with no contact of any kind and no
                                                                        supervision discussion before a review is
                                                                        overdue
``review_overdue_statuses``    awaiting assessment, awaiting            referral statuses the review-overdue rule
                               treatment, in treatment                  applies to
``long_wait_amber_days``       42                                       days from referral, still waiting for
                                                                        treatment, after which the wait is amber
                                                                        (6-week standard)
``long_wait_red_days``         126                                      ... and red (18-week standard)
``not_on_track_percentile``    75                                       percentile of the expected curve above
                                                                        which a score is amber (not on track);
                                                                        lower flags more cases (see the managers'
                                                                        validation page to tune it)
``not_on_track_outer``         90                                       ... and above which it is red
=============================  =======================================  ==========================================

Reliable change and caseness come from the questionnaire table in ``outcomes.scoring`` (PHQ-9: 6 and
10; GAD-7: 4 and 8); how a mixed change (one measure reliably better, the other reliably worse) counts
is the service-wide policy ``mixed_reliable_change`` in ``common.standards``.

The rules, in the order they are shown:

- **risk** (red, urgent risk review): the latest PHQ-9 has item 9 above ``risk_item9_above``.
- **deterioration** (red, consider step up): reliable deterioration from the first to the latest
  scores: at least one of PHQ-9 / GAD-7 rose by its reliable change value and neither fell by it (a
  measure counts once it has been scored on two dates; one such measure is enough).
- **not_improving** (amber, consider step up): at step 2 after 4 attended treatment contacts (step 3:
  8) without reliable improvement from the first scores (no measure fell reliably, or one rose).
- **recovered** (green, consider step down at step 3 and above, step out below): the latest two
  scored sessions both had PHQ-9 and GAD-7 below caseness.
- **disengaging** (amber, review, consider step out): 2 did-not-attend in a row, or in treatment with
  no attended contact for 28 days.
- **review_overdue** (amber, review): an active referral with no contact or supervision discussion for
  28 days (counted from the referral date when there has been neither).
- **long_wait** (amber after 42 days, red after 126): still waiting for treatment (awaiting assessment
  or awaiting treatment) that many days after the referral was received.
- **not_on_track** (amber or red, review in supervision): the latest PHQ-9, GAD-7 or anxiety
  disorder-specific measure (SPIN, PDSS, PCL-5, OCI, HAI, Mobility Inventory) sits above the
  expected band for its session, learned from the team's own finished courses
  (``outcomes.trajectories``; DOMAIN §10): amber above the ``not_on_track_percentile`` of similar
  past patients, red above the ``not_on_track_outer``. The evidence names what was compared
  ("PHQ-9 17 at session 4; expected 8–13 for intake 15–19, N = 412"). It stands beside the
  fixed-count **not_improving** rule: a team runs either or both (``rules``). No fit yet, or no
  curve for the patient's intake band: no finding.
"""

from __future__ import annotations

import datetime as dt
from copy import deepcopy
from dataclasses import dataclass, field
from functools import cached_property

import outcomes.trajectories as trajectories
from outcomes.scoring import GAD7, PHQ9, instrument

# Rule, recommendation and severity codes: the same strings as the choices on ReviewFlag.
RISK = "risk"
DETERIORATION = "deterioration"
NOT_IMPROVING = "not_improving"
RECOVERED = "recovered"
DISENGAGING = "disengaging"
REVIEW_OVERDUE = "review_overdue"
LONG_WAIT = "long_wait"
NOT_ON_TRACK = "not_on_track"
RULES = (RISK, DETERIORATION, NOT_IMPROVING, RECOVERED, DISENGAGING, REVIEW_OVERDUE, LONG_WAIT, NOT_ON_TRACK)

STEP_UP, STEP_DOWN, STEP_OUT, REVIEW = "step_up", "step_down", "step_out", "review"
RED, AMBER, GREEN = "red", "amber", "green"

AWAITING_ASSESSMENT, AWAITING_TREATMENT = "awaiting_assessment", "awaiting_treatment"
IN_TREATMENT, DISCHARGED = "in_treatment", "discharged"
ACTIVE_STATUSES = (AWAITING_ASSESSMENT, AWAITING_TREATMENT, IN_TREATMENT)
WAITING_STATUSES = (AWAITING_ASSESSMENT, AWAITING_TREATMENT)

ATTENDED = frozenset(("5", "6"))
DNA = "3"
TREATMENT = frozenset(("02", "03", "05"))
NO_RELIABLE_CHANGE = "no_reliable_change"

DEFAULT_PARAMETERS = {
    "rules": list(RULES),
    "risk_item9_above": 0,
    "not_improving_contacts": {"2": 4, "3": 8},
    "recovered_scores": 2,
    "disengaging_dnas": 2,
    "disengaging_days": 28,
    "review_overdue_days": 28,
    "review_overdue_statuses": list(ACTIVE_STATUSES),
    "long_wait_amber_days": 42,
    "long_wait_red_days": 126,
    "not_on_track_percentile": trajectories.DEFAULT_TOLERANCE,
    "not_on_track_outer": trajectories.DEFAULT_OUTER,
}

# Contact tuple layout, in date order: (date, appointment_type, attendance, phq9_total, phq9_item9,
# gad7_total, ...); the scores are None when that questionnaire was not completed at the contact, and
# anything after them (the query's referral id) is ignored. Scores the patient completed on their own
# (a questionnaire link, the self-referral form) come as rows with an empty type and attendance: scores
# without a contact, which count for the score rules and never as a contact.
DATE, TYPE, ATTENDANCE, PHQ, ITEM9, GAD = range(6)


@dataclass(frozen=True, slots=True)
class History:
    """What the rules may know about one referral."""

    status: str
    received_on: dt.date
    step: int | None = None
    step_started_on: dt.date | None = None
    contacts: tuple | list = ()
    last_supervision_on: dt.date | None = None
    expected: trajectories.Curves | None = None  # the team's newest fit of the expected curves
    # The anxiety disorder-specific measures (SPIN, PCL-5, ...) scored on this referral, each as
    # [(date, score), ...] in date order: judged against their own curves by the not-on-track rule.
    anxiety: dict = field(default_factory=dict)


class Finding:
    """One rule's finding. ``data`` holds the facts it rests on (dates, scores), from which its words
    and its JSON evidence are made when they are needed: a review that finds what the flag already
    says compares ``data`` (through a digest) and builds no text."""

    __slots__ = ("rule", "recommendation", "severity", "episode", "data", "__dict__")

    def __init__(self, rule, recommendation, severity, episode, data):
        self.rule = rule
        self.recommendation = recommendation
        self.severity = severity
        self.episode = episode
        self.data = data

    @cached_property
    def _rendered(self):
        return RENDERERS[self.rule](self.data)

    @property
    def explanation(self) -> str:
        return self._rendered[0]

    @property
    def evidence(self) -> dict:
        return self._rendered[1]

    def __eq__(self, other):
        return isinstance(other, Finding) and self.key() == other.key()

    def __hash__(self):
        return hash(self.key())

    def key(self):
        return (self.rule, self.recommendation, self.severity, self.episode, self.data)

    def __repr__(self):
        return f"Finding({self.rule!r}, {self.recommendation!r}, {self.severity!r}, {self.episode!r})"


class ParameterError(ValueError):
    def __init__(self, errors: dict):
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


# ---------------------------------------------------------------------------------------------
# Parameters


def _whole(value, minimum):
    return isinstance(value, int) and not isinstance(value, bool) and value >= minimum


def validate_parameters(overrides) -> dict:
    """Problems with a team's overrides, by parameter name, in words (empty when all is well)."""
    errors = {}
    if overrides in (None, ""):
        return errors
    if not isinstance(overrides, dict):
        return {"review_parameters": "Give the review parameters as an object of name: value."}
    for key, value in overrides.items():
        if key not in DEFAULT_PARAMETERS:
            errors[key] = f"Unknown review parameter; known ones are {', '.join(DEFAULT_PARAMETERS)}."
        elif key == "rules":
            if not isinstance(value, list) or any(v not in RULES for v in value):
                errors[key] = f"Give a list of rules from: {', '.join(RULES)}."
        elif key == "review_overdue_statuses":
            if not isinstance(value, list) or any(v not in ACTIVE_STATUSES for v in value):
                errors[key] = f"Give a list of statuses from: {', '.join(ACTIVE_STATUSES)}."
        elif key == "not_improving_contacts":
            if not isinstance(value, dict) or any(
                str(k) not in ("1", "2", "3", "4", "5") or not _whole(v, 1) for k, v in value.items()
            ):
                errors[key] = 'Give contacts per step, e.g. {"2": 4, "3": 8} (steps 1-5, at least 1 contact).'
        elif key in ("not_on_track_percentile", "not_on_track_outer"):
            if value not in trajectories.PERCENTILES:
                errors[key] = f"Give a percentile from: {', '.join(map(str, trajectories.PERCENTILES))}."
        elif key in ("risk_item9_above",):
            if not _whole(value, 0) or value > 2:
                errors[key] = "Give a whole number from 0 to 2 (item 9 is answered 0-3)."
        elif not _whole(value, 1):
            errors[key] = "Give a whole number of at least 1."
    if not errors:
        amber = overrides.get("long_wait_amber_days", DEFAULT_PARAMETERS["long_wait_amber_days"])
        red = overrides.get("long_wait_red_days", DEFAULT_PARAMETERS["long_wait_red_days"])
        if red <= amber:
            errors["long_wait_red_days"] = "The red wait must be longer than the amber wait."
        low = overrides.get("not_on_track_percentile", DEFAULT_PARAMETERS["not_on_track_percentile"])
        high = overrides.get("not_on_track_outer", DEFAULT_PARAMETERS["not_on_track_outer"])
        if high <= low:
            errors["not_on_track_outer"] = "The red (outer) percentile must be above the amber one."
    return errors


def parameters(overrides=None, *, strict=True) -> dict:
    """The defaults with a team's overrides applied. ``strict=False`` skips invalid overrides (the
    nightly scan must not stop for one team's typo); ``strict=True`` raises ParameterError."""
    params = deepcopy(DEFAULT_PARAMETERS)
    if not overrides:
        return params
    errors = validate_parameters(overrides)
    if errors and strict:
        raise ParameterError(errors)
    for key, value in overrides.items() if isinstance(overrides, dict) else ():
        if key in errors or key not in params:
            continue
        params[key] = {str(k): v for k, v in value.items()} if key == "not_improving_contacts" else value
    if "long_wait_red_days" in errors:  # keep the pair consistent
        params["long_wait_amber_days"] = DEFAULT_PARAMETERS["long_wait_amber_days"]
        params["long_wait_red_days"] = DEFAULT_PARAMETERS["long_wait_red_days"]
    if "not_on_track_outer" in errors:
        params["not_on_track_percentile"] = DEFAULT_PARAMETERS["not_on_track_percentile"]
        params["not_on_track_outer"] = DEFAULT_PARAMETERS["not_on_track_outer"]
    return params


# ---------------------------------------------------------------------------------------------
# Helpers


def day(value: dt.date | None) -> str:
    """A date as clinicians read it: 3 Mar 2026."""
    return "" if value is None else f"{value.day} {value:%b %Y}"


def iso(value: dt.date | None):
    return None if value is None else value.isoformat()


PHQ_RC, GAD_RC = instrument(PHQ9).reliable_change, instrument(GAD7).reliable_change
PHQ_CUT, GAD_CUT = instrument(PHQ9).caseness, instrument(GAD7).caseness
NAMES = {PHQ9: "PHQ-9", GAD7: "GAD-7"}
WORSE, BETTER, SAME = 1, -1, 0


class _Facts:
    """Everything the rules need, gathered in one pass over the contacts."""

    __slots__ = (
        "phq_first",
        "phq_last",
        "gad_first",
        "gad_last",
        "last_item9",
        "treatment_since_step",
        "last_attended_on",
        "last_contact_on",
    )


def _gather(history: History) -> _Facts:
    phq_first = phq_last = gad_first = gad_last = last_item9 = last_attended = None
    since = history.step_started_on
    treatment = 0
    for c in history.contacts:
        phq = c[3]
        if phq is not None:
            if phq_first is None:
                phq_first = (c[0], phq)
            phq_last = (c[0], phq)
            last_item9 = (c[0], c[4], phq)
        gad = c[5]
        if gad is not None:
            if gad_first is None:
                gad_first = (c[0], gad)
            gad_last = (c[0], gad)
        if c[2] in ATTENDED:
            last_attended = c[0]
            if c[1] in TREATMENT and (since is None or c[0] >= since):
                treatment += 1
    facts = _Facts()
    facts.phq_first, facts.phq_last, facts.gad_first, facts.gad_last = phq_first, phq_last, gad_first, gad_last
    facts.last_item9, facts.treatment_since_step, facts.last_attended_on = last_item9, treatment, last_attended
    facts.last_contact_on = next((c[0] for c in reversed(history.contacts) if c[1]), None)
    return facts


def _case_at_start(facts: _Facts) -> bool:
    """At caseness at the first scores: PHQ-9 or GAD-7 at or above its cut-off."""
    return bool(
        (facts.phq_first is not None and facts.phq_first[1] >= PHQ_CUT)
        or (facts.gad_first is not None and facts.gad_first[1] >= GAD_CUT)
    )


def _changes(facts: _Facts) -> tuple:
    """(measure, first, first_on, latest, latest_on, direction) for each measure scored on two dates."""
    out = ()
    first, last = facts.phq_first, facts.phq_last
    if first is not None and first[0] != last[0]:
        change = last[1] - first[1]
        direction = WORSE if change >= PHQ_RC else BETTER if change <= -PHQ_RC else SAME
        out = ((PHQ9, first[1], first[0], last[1], last[0], direction),)
    first, last = facts.gad_first, facts.gad_last
    if first is not None and first[0] != last[0]:
        change = last[1] - first[1]
        direction = WORSE if change >= GAD_RC else BETTER if change <= -GAD_RC else SAME
        out += ((GAD7, first[1], first[0], last[1], last[0], direction),)
    return out


def _deteriorated(changes: tuple, mixed_policy: str) -> bool:
    worse = better = False
    for change in changes:
        worse = worse or change[5] == WORSE
        better = better or change[5] == BETTER
    return worse and (not better or mixed_policy != NO_RELIABLE_CHANGE)


def _improved(changes: tuple) -> bool:
    worse = better = False
    for change in changes:
        worse = worse or change[5] == WORSE
        better = better or change[5] == BETTER
    return better and not worse


def _measures_evidence(changes: tuple) -> dict:
    out = {}
    for measure, first, first_on, latest, latest_on, direction in changes:
        out[measure] = {
            "first": first,
            "first_on": iso(first_on),
            "latest": latest,
            "latest_on": iso(latest_on),
            "change": latest - first,
            "reliable_change": PHQ_RC if measure == PHQ9 else GAD_RC,
            "direction": {WORSE: "worse", BETTER: "better", SAME: "no reliable change"}[direction],
        }
    return out


def _describe(changes: tuple) -> str:
    parts = []
    for measure, first, first_on, latest, latest_on, _ in changes:
        start, end = f"{first} ({day(first_on)})", f"{latest} ({day(latest_on)})"
        change = latest - first
        if change:
            verb = "rose" if change > 0 else "fell"
            parts.append(f"{NAMES[measure]} {verb} by {abs(change)}, from {start} to {end}")
        else:
            parts.append(f"{NAMES[measure]} unchanged, {start} and {end}")
    return "; ".join(parts)


# ---------------------------------------------------------------------------------------------
# The rules: each returns a Finding (or None) with the facts it rests on; the renderers below turn
# those facts into words and JSON evidence.


def risk(history, facts, today, params, mixed_policy):
    if facts.last_item9 is None:
        return None
    on, item9, total = facts.last_item9
    threshold = params["risk_item9_above"]
    if item9 is None or item9 <= threshold:
        return None
    return Finding(RISK, "risk", RED, on.isoformat(), (on, item9, total, threshold))


def risk_review_due(history: History, episode: str, params: dict | None = None) -> Finding:
    """An open risk flag whose score no longer shows the risk. It stays open: only a clinician's recorded
    risk review closes a risk flag, never a later score. Its words say what the latest PHQ-9 shows."""
    params = params or DEFAULT_PARAMETERS
    facts = _gather(history)
    raised = next(
        ((c[0], c[4], c[3]) for c in history.contacts if c[0].isoformat() == episode and c[4] is not None), None
    )
    return Finding(RISK, "risk", RED, episode, ("due", episode, raised, facts.last_item9, params["risk_item9_above"]))


def _render_risk(data):
    if data[0] == "due":
        _, episode, raised, latest, threshold = data
        if raised is None:
            said = (
                f"The PHQ-9 of {day(dt.date.fromisoformat(episode))} that raised this flag was marked entered in error"
            )
        else:
            said = f"PHQ-9 item 9 was {raised[1]} on {day(raised[0])}"
        now = f"; item 9 now {latest[1]} (PHQ-9 of {day(latest[0])})" if latest else ""
        return (
            f"{said}{now}. The risk review is still to be recorded: only a clinician closes a risk flag.",
            {
                "phq9_item9": raised[1] if raised else None,
                "phq9_total": raised[2] if raised else None,
                "scored_on": episode,
                "latest_phq9_item9": latest[1] if latest else None,
                "latest_scored_on": iso(latest[0]) if latest else None,
                "threshold": threshold,
                "review_recorded": False,
            },
        )
    on, item9, total, threshold = data
    return (
        f"PHQ-9 item 9 (thoughts of being better off dead or of self-harm) was {item9} on {day(on)}: "
        "carry out a structured risk review.",
        {"phq9_item9": item9, "phq9_total": total, "scored_on": iso(on), "threshold": threshold},
    )


def deterioration(history, facts, today, params, mixed_policy):
    if facts.phq_first is None and facts.gad_first is None:
        return None
    changes = _changes(facts)
    if not changes or not _deteriorated(changes, mixed_policy):
        return None
    latest = max(c[4] for c in changes)
    return Finding(DETERIORATION, STEP_UP, RED, latest.isoformat(), (changes, mixed_policy))


def _render_deterioration(data):
    changes, mixed_policy = data
    return (
        f"Reliable deterioration from the first scores: {_describe(changes)}. Urgent review; consider stepping up.",
        {"measures": _measures_evidence(changes), "mixed_policy": mixed_policy},
    )


def not_improving(history, facts, today, params, mixed_policy):
    threshold = params["not_improving_contacts"].get(str(history.step)) if history.step else None
    count = facts.treatment_since_step
    if not threshold or count < threshold:
        return None
    changes = _changes(facts)
    if _improved(changes):
        return None
    since = history.step_started_on
    episode = f"step {history.step} from {iso(since)}, review {count // threshold}"
    return Finding(NOT_IMPROVING, STEP_UP, AMBER, episode, (history.step, since, count, threshold, changes))


def _render_not_improving(data):
    step, since, count, threshold, changes = data
    where = f"since step {step} began on {day(since)}" if since else f"at step {step}"
    if changes:
        scores = f"{_describe(changes)}: no reliable improvement"
    else:
        scores = "no PHQ-9 or GAD-7 scored twice to show improvement"
    return (
        f"{count} attended treatment contacts {where} (review point: {threshold}) and {scores}. Consider stepping up.",
        {
            "step": step,
            "step_started_on": iso(since),
            "attended_treatment_contacts": count,
            "review_point": threshold,
            "measures": _measures_evidence(changes),
        },
    )


def recovered(history, facts, today, params, mixed_policy):
    wanted = params["recovered_scores"]
    latest = []  # the latest scored sessions, newest first, while they stay below caseness
    start = None
    for c in reversed(history.contacts):
        p, g = c[3], c[5]
        if p is None or g is None:
            continue
        if p >= PHQ_CUT or g >= GAD_CUT:
            break
        if len(latest) < wanted:
            latest.append((c[0], p, g))
        start = c[0]  # the episode starts at the first session of the run below caseness
    if len(latest) < wanted:
        return None
    if not _case_at_start(facts):
        return None  # below caseness from the start: there is no recovery to speak of (DOMAIN §3)
    step_down = bool(history.step and history.step >= 3)
    return Finding(
        RECOVERED,
        STEP_DOWN if step_down else STEP_OUT,
        GREEN,
        f"below caseness from {start.isoformat()}",
        (tuple(reversed(latest)), step_down, history.step),
    )


def _render_recovered(data):
    latest, step_down, step = data
    listed = "; ".join(f"PHQ-9 {p} and GAD-7 {g} on {day(on)}" for on, p, g in latest)
    wanted = len(latest)
    return (
        f"The last {wanted} scored sessions were {'both' if wanted == 2 else 'all'} below caseness "
        f"(PHQ-9 under {PHQ_CUT}, GAD-7 under {GAD_CUT}): {listed}. "
        f"Consider stepping {'down or out' if step_down else 'out (discharge) or down'}.",
        {
            "sessions": [{"on": iso(on), "phq9": p, "gad7": g} for on, p, g in latest],
            "phq9_caseness": PHQ_CUT,
            "gad7_caseness": GAD_CUT,
            "step": step,
        },
    )


def _dna_run(contacts):
    """Dates of the did-not-attend at the end of the history, skipping cancellations."""
    run = []
    for c in reversed(contacts):
        if c[2] == DNA:
            run.append(c[0])
        elif c[2] in ATTENDED:
            break
    run.reverse()
    return tuple(run)


def disengaging(history, facts, today, params, mixed_policy):
    dnas = _dna_run(history.contacts) if history.contacts else ()
    if len(dnas) < params["disengaging_dnas"]:
        dnas = ()
    limit = params["disengaging_days"]
    last = facts.last_attended_on
    quiet = history.status == IN_TREATMENT and last is not None and (today - last).days >= limit
    if not dnas and not quiet:
        return None
    episode = f"not attended since {(last or history.received_on).isoformat()}"
    return Finding(DISENGAGING, STEP_OUT, AMBER, episode, (dnas, limit if quiet else None, last))


def _render_disengaging(data):
    dnas, limit, last = data
    reasons, evidence = [], {}
    if dnas:
        reasons.append(f"did not attend {len(dnas)} appointments in a row ({', '.join(day(d) for d in dnas)})")
        evidence["did_not_attend"] = [iso(d) for d in dnas]
    if limit is not None:
        due = last + dt.timedelta(days=limit)
        reasons.append(f"no attended contact since {day(last)} ({limit} days passed on {day(due)})")
        evidence["days_without_attended_contact"] = limit
        evidence["no_attended_contact_since"] = iso(last)
    evidence["last_attended_on"] = iso(last)
    text = "; ".join(reasons)
    return f"{text[0].upper()}{text[1:]}. Review engagement; consider stepping out.", evidence


def review_overdue(history, facts, today, params, mixed_policy):
    if history.status not in params["review_overdue_statuses"]:
        return None
    limit = params["review_overdue_days"]
    contact_on, supervised_on = facts.last_contact_on, history.last_supervision_on
    if contact_on is not None and supervised_on is not None:
        since = max(contact_on, supervised_on)
    else:
        since = contact_on or supervised_on or history.received_on
    if (today - since).days < limit:
        return None
    data = (contact_on, supervised_on, since, limit, history.received_on)
    return Finding(REVIEW_OVERDUE, REVIEW, AMBER, f"since {since.isoformat()}", data)


def _render_review_overdue(data):
    contact_on, supervised_on, since, limit, received_on = data
    due = since + dt.timedelta(days=limit)
    if contact_on or supervised_on:
        what = []
        if contact_on:
            what.append(f"last contact {day(contact_on)}")
        if supervised_on:
            what.append(f"last supervision discussion {day(supervised_on)}")
        basis = ", ".join(what)
    else:
        basis = f"no contact or supervision discussion since the referral was received on {day(received_on)}"
    return (
        f"Review overdue: {basis}; a review was due by {day(due)} ({limit} days).",
        {
            "last_contact_on": iso(contact_on),
            "last_supervision_on": iso(supervised_on),
            "since": iso(since),
            "due_on": iso(due),
            "days": limit,
        },
    )


def long_wait(history, facts, today, params, mixed_policy):
    if history.status not in WAITING_STATUSES:
        return None
    amber, red = params["long_wait_amber_days"], params["long_wait_red_days"]
    waited = (today - history.received_on).days
    if waited <= amber:
        return None
    severity, limit = (RED, red) if waited > red else (AMBER, amber)
    episode = f"{severity} wait from {history.received_on.isoformat()}"
    return Finding(LONG_WAIT, REVIEW, severity, episode, (history.received_on, history.status, limit, amber, red))


def _render_long_wait(data):
    received_on, status, limit, amber, red = data
    passed = received_on + dt.timedelta(days=limit + 1)
    stage = "assessment" if status == AWAITING_ASSESSMENT else "treatment"
    return (
        f"Referral received on {day(received_on)} and still waiting for {stage}: the wait passed "
        f"{limit} days on {day(passed)} (standards: first treatment within {amber} and {red} days).",
        {
            "received_on": iso(received_on),
            "status": status,
            "more_than_days": limit,
            "exceeded_on": iso(passed),
            "amber_days": amber,
            "red_days": red,
        },
    )


def _series(contacts, index):
    return [(c[DATE], c[index]) for c in contacts if c[index] is not None]


def _scored(history):
    """(measure, [(date, score)]) for every measure the not-on-track rule may judge: PHQ-9 and GAD-7
    from the contacts (and the patient's own scores), then each ADSM scored on the referral."""
    yield PHQ9, _series(history.contacts, PHQ)
    yield GAD7, _series(history.contacts, GAD)
    yield from sorted(history.anxiety.items())


def _series_of(history, measure):
    return dict(_scored(history))[measure]


def on_track_judgements(history: History, params: dict | None = None) -> list:
    """The judgements of the latest PHQ-9, GAD-7 and ADSM scores against the expected curves (those
    there is a curve for), worst first."""
    params = params or DEFAULT_PARAMETERS
    curves = history.expected
    if curves is None or curves.empty:
        return []
    found = []
    for measure, series in _scored(history):
        judged = trajectories.judge(
            curves,
            measure,
            series,
            tolerance=params["not_on_track_percentile"],
            outer=params["not_on_track_outer"],
        )
        if judged is not None:
            found.append(judged)
    rank = {trajectories.RED: 0, trajectories.AMBER: 1, trajectories.ON_TRACK: 2}
    order = {PHQ9: 0, GAD7: 1}
    return sorted(found, key=lambda j: (rank[j.status], order.get(j.measure, 2), j.measure))


def _off_track_since(history, judgement, params):
    """The date of the first session of the current run above the expected band (the episode)."""
    series = _series_of(history, judgement.measure)
    since = series[-1][0]
    for session in range(len(series) - 1, trajectories.FIRST_JUDGED_SESSION - 1, -1):
        earlier = trajectories.judge(
            history.expected,
            judgement.measure,
            series,
            tolerance=params["not_on_track_percentile"],
            outer=params["not_on_track_outer"],
            upto=session,
        )
        if earlier is None or not earlier.not_on_track:
            break
        since = series[session - 1][0]
    return since


def not_on_track(history, facts, today, params, mixed_policy):
    judged = [j for j in on_track_judgements(history, params) if j.not_on_track]
    if not judged:
        return None
    worst = judged[0]
    since = _off_track_since(history, worst, params)
    curves = history.expected
    return Finding(
        NOT_ON_TRACK,
        REVIEW,
        RED if worst.status == trajectories.RED else AMBER,
        f"{worst.measure} above the expected band from {since.isoformat()}",
        (tuple(judged), curves.version, curves.method_name, curves.courses),
    )


def _render_not_on_track(data):
    judged, version, method, courses = data
    parts = []
    for j in judged:
        over = (
            f"above the {j.outer_pct}th percentile, {trajectories.format_number(j.outer)}"
            if j.status == trajectories.RED
            else (f"above the {j.tolerance}th percentile")
        )
        parts.append(f"{j.words()} ({over})")
    return (
        f"Not on track: {'; '.join(parts)}. Compared with the team's own finished courses "
        f"(fit v{version}, {courses} courses). Discuss in supervision.",
        {
            "trajectories": [j.evidence() for j in judged],
            "fit_version": version,
            "method": method,
            "fit_courses": courses,
        },
    )


RULE_FUNCTIONS = {
    RISK: risk,
    DETERIORATION: deterioration,
    NOT_IMPROVING: not_improving,
    RECOVERED: recovered,
    DISENGAGING: disengaging,
    REVIEW_OVERDUE: review_overdue,
    LONG_WAIT: long_wait,
    NOT_ON_TRACK: not_on_track,
}
RENDERERS = {
    RISK: _render_risk,
    DETERIORATION: _render_deterioration,
    NOT_IMPROVING: _render_not_improving,
    RECOVERED: _render_recovered,
    DISENGAGING: _render_disengaging,
    REVIEW_OVERDUE: _render_review_overdue,
    LONG_WAIT: _render_long_wait,
    NOT_ON_TRACK: _render_not_on_track,
}


def evaluate(
    history: History, today: dt.date, params: dict | None = None, *, mixed_policy: str = NO_RELIABLE_CHANGE
) -> list[Finding]:
    """The findings of the enabled rules for one referral on ``today`` (none once discharged)."""
    if history.status == DISCHARGED:
        return []
    params = params or DEFAULT_PARAMETERS
    facts = _gather(history)
    findings = []
    for rule in params["rules"]:
        found = RULE_FUNCTIONS[rule](history, facts, today, params, mixed_policy)
        if found is not None:
            findings.append(found)
    if any(f.recommendation == STEP_UP for f in findings):
        # Never "step up" and "step down or out" at once: a case that is deteriorating or not improving
        # is not stepped down, whatever its latest scores say.
        findings = [f for f in findings if f.recommendation not in (STEP_DOWN, STEP_OUT)]
    return findings


def clear_reason(rule: str, history: History, today: dt.date, params: dict | None = None) -> str:
    """Why a flag of ``rule`` no longer holds, in words, for the flag's resolution note."""
    params = params or DEFAULT_PARAMETERS
    if history.status == DISCHARGED:
        return "The referral was discharged."
    if rule not in params["rules"]:
        return "This rule is turned off for the team."
    facts = _gather(history)
    if rule == RISK:
        if facts.last_item9 is None:
            return "No PHQ-9 remains on record (entered in error)."
        on, item9, _ = facts.last_item9
        return f"The latest PHQ-9 ({day(on)}) has item 9 at {item9}."
    if rule in (DETERIORATION, NOT_IMPROVING):
        changes = _changes(facts)
        if rule == NOT_IMPROVING and _improved(changes):
            return f"Reliable improvement from the first scores: {_describe(changes)}."
        if rule == NOT_IMPROVING:
            return f"Now at step {history.step or '-'}; its review point is not reached yet."
        return f"No reliable deterioration from the first scores: {_describe(changes) or 'too few scores'}."
    if rule == RECOVERED:
        return "The latest scores are no longer all below caseness."
    if rule == DISENGAGING:
        return f"Attended on {day(facts.last_attended_on)}." if facts.last_attended_on else "No longer disengaging."
    if rule == REVIEW_OVERDUE:
        latest = max(d for d in (facts.last_contact_on, history.last_supervision_on, history.received_on) if d)
        return f"Reviewed: latest contact or supervision discussion on {day(latest)}."
    if rule == LONG_WAIT:
        return "Treatment has started." if history.status == IN_TREATMENT else "The wait is within the standard."
    if rule == NOT_ON_TRACK:
        judged = on_track_judgements(history, params)
        if not judged:
            return "No expected curve to compare the latest scores with."
        return "Back on track: " + "; ".join(j.words() for j in judged) + "."
    return "The condition no longer holds."


EVIDENCE_LABELS = {
    "phq9_item9": "PHQ-9 item 9",
    "phq9_total": "PHQ-9 total",
    "scored_on": "Scored on",
    "step": "Step",
    "step_started_on": "Step began",
    "attended_treatment_contacts": "Attended treatment contacts at this step",
    "review_point": "Review point (contacts)",
    "did_not_attend": "Did not attend",
    "last_attended_on": "Last attended",
    "no_attended_contact_since": "No attended contact since",
    "last_contact_on": "Last contact",
    "last_supervision_on": "Last supervision discussion",
    "due_on": "Review due by",
    "received_on": "Referral received",
    "more_than_days": "Waiting more than (days)",
    "exceeded_on": "Exceeded on",
}


def evidence_lines(rule: str, evidence: dict) -> list[tuple[str, str]]:
    """The evidence as (label, value) lines for people: scores with their dates."""
    lines = []
    for measure, m in (evidence.get("measures") or {}).items():
        lines.append(
            (
                NAMES.get(measure, measure),
                f"{m['first']} on {day(dt.date.fromisoformat(m['first_on']))} → {m['latest']} on "
                f"{day(dt.date.fromisoformat(m['latest_on']))} ({m['change']:+d}; "
                f"reliable change {m['reliable_change']})",
            )
        )
    for j in evidence.get("trajectories") or []:
        name = NAMES.get(j["measure"], j["measure"])
        lines.append(
            (
                f"{name} at session {j['session']}",
                f"{j['score']} (expected {j['expected_median']}–{j['expected_upper']}, red above "
                f"{j['expected_outer']}; intake {j['intake']} in band {j['intake_band']}, N = {j['n']})",
            )
        )
    for s in evidence.get("sessions") or []:
        lines.append((f"Scores on {day(dt.date.fromisoformat(s['on']))}", f"PHQ-9 {s['phq9']}, GAD-7 {s['gad7']}"))
    for key, label in EVIDENCE_LABELS.items():
        value = evidence.get(key)
        if value in (None, "", []):
            continue
        value = ", ".join(_as_day(v) for v in value) if isinstance(value, list) else _as_day(value)
        lines.append((label, value))
    return lines


def _as_day(value):
    if isinstance(value, str) and len(value) == 10 and value[4] == "-":
        try:
            return day(dt.date.fromisoformat(value))
        except ValueError:
            return value
    return str(value)
