"""Reads for the review engine and for showing flags. No writes.

A review of a chunk of referrals costs a fixed number of SQL queries whatever the chunk's size: one
for the referrals (with their open step and last supervision discussion), one for all their valid
contacts with the PHQ-9 and GAD-7 of each contact joined in, one for their flags and one for their
teams' parameters.
"""

from django.db.models import FilteredRelation, OuterRef, Q, Subquery

from referrals.models import CareContact, Referral

from .models import FlagStatus, ReviewFlag, StepAssignment, Team


def active_referral_ids(team_id=None):
    """Ids of every active referral, sorted so that chunks are stable between runs."""
    qs = Referral.objects.active()
    if team_id is not None:
        qs = qs.filter(team_id=team_id)
    return list(qs.order_by("pk").values_list("pk", flat=True))


def referral_rows(referral_ids, *, lock=False):
    """(id, team_id, patient_id, status, received_on, current_step, step_started_on, last_supervision_on).

    ``lock=True`` takes the rows' locks first (in id order, so that two reviews never deadlock): a
    contact logged meanwhile waits, and then its own review runs on the data it wrote.
    """
    from supervision.models import CaseDecision

    if lock:
        list(Referral.objects.select_for_update().filter(pk__in=referral_ids).order_by("pk").values_list("pk"))
    step_start = StepAssignment.objects.filter(referral=OuterRef("pk"), ended_on__isnull=True).values("started_on")[:1]
    discussed = (
        CaseDecision.objects.valid()
        .filter(referral=OuterRef("pk"))
        .order_by("-session__date")
        .values("session__date")[:1]
    )
    return list(
        Referral.objects.filter(pk__in=referral_ids)
        .annotate(step_started_on=Subquery(step_start), last_supervision_on=Subquery(discussed))
        .values_list(
            "pk",
            "team_id",
            "patient_id",
            "status",
            "received_on",
            "current_step",
            "step_started_on",
            "last_supervision_on",
        )
    )


def contact_rows(referral_ids):
    """Valid contacts in date order: (referral_id, date, appointment_type, attendance, PHQ-9 total,
    PHQ-9 item 9, GAD-7 total). A contact holds at most one valid response per measure (a database
    constraint), so the joins never multiply rows."""
    valid = Q(questionnaires__entered_in_error=False)
    return (
        CareContact.objects.valid()
        .filter(referral_id__in=referral_ids)
        .annotate(
            phq=FilteredRelation("questionnaires", condition=valid & Q(questionnaires__measure="PHQ9")),
            gad=FilteredRelation("questionnaires", condition=valid & Q(questionnaires__measure="GAD7")),
        )
        .order_by("referral_id", "date", "time", "created_at")
        .values_list("referral_id", "date", "appointment_type", "attendance", "phq__total", "phq__item_9", "gad__total")
    )


def flag_rows(referral_ids):
    """Open flags (id, referral_id, rule, status, episode, digest), and those a clinician resolved."""
    return ReviewFlag.objects.filter(
        referral_id__in=referral_ids,
        status__in=(FlagStatus.OPEN, FlagStatus.ACCEPTED, FlagStatus.DISMISSED),
    ).values_list("pk", "referral_id", "rule", "status", "episode", "digest")


def team_parameters(team_ids):
    return dict(Team.objects.filter(pk__in=set(team_ids)).values_list("pk", "review_parameters"))


def flags_visible_to(user):
    """Flags of the referrals this user may see (others get 404)."""
    return ReviewFlag.objects.filter(referral__in=Referral.objects.visible_to(user).values("pk"))


def open_flags(referral):
    """A referral's open flags, most urgent first (risk, then red, amber, green), for its page."""
    order = {"red": 0, "amber": 1, "green": 2}
    flags = list(referral.flags.filter(status=FlagStatus.OPEN))
    flags.sort(key=lambda f: (f.rule != "risk", order.get(f.severity, 3), f.raised_at))
    return flags
