"""Reads of courses, enrolments and registers: scoped to the user, with a fixed number of SQL queries.

Policy: a course (with its members and their scores) is seen by its facilitators and by its team's
managers and administrators; any clinician of the team may *offer* the team's open courses to a
referral they can see (the offer list shows no member data). An enrolment is seen by whoever sees its
course or its referral.
"""

from django.apps import apps
from django.db import models
from django.db.models import Count, Exists, IntegerField, Max, Min, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce

from common.scoping import team_scope

# The QuerySets below are attached by this app's models.py, which imports this module: they name this
# app's own models through ``apps.get_model`` at call time (the one reason for it here).
from referrals.codes import ATTENDED_CODES, Attendance
from referrals.models import Referral

from .codes import OPEN_STATUSES


def _count(queryset, group_by):
    """A correlated COUNT subquery (no join fan-out in the outer query)."""
    counted = queryset.order_by().values(group_by).annotate(n=Count("pk")).values("n")
    return Coalesce(Subquery(counted, output_field=IntegerField()), 0)


class CourseQuerySet(models.QuerySet):
    def visible_to(self, user):
        scoped = team_scope(self, user)
        if scoped is not None:
            return scoped
        through = self.model.facilitators.through
        return self.filter(team_id=user.team_id).filter(
            Exists(through.objects.filter(groupcourse_id=OuterRef("pk"), staff_id=user.pk))
        )

    def offerable_to(self, user):
        """The team's open courses, for enrolling a referral the user can see."""
        if not user or not user.is_authenticated:
            return self.none()
        if user.is_superuser:
            return self.filter(status__in=OPEN_STATUSES)
        if user.team_id is None:
            return self.none()
        return self.filter(team_id=user.team_id, status__in=OPEN_STATUSES)

    def with_stats(self, today):
        """Annotate enrolment, schedule and attendance counts (one query, whatever the number of courses)."""
        Enrolment = apps.get_model("workshops", "Enrolment")
        CourseSession = apps.get_model("workshops", "CourseSession")
        RegisterEntry = apps.get_model("workshops", "RegisterEntry")
        sessions = CourseSession.objects.filter(course=OuterRef("pk")).order_by()
        entries = RegisterEntry.objects.valid().filter(session__course=OuterRef("pk"))
        return self.annotate(
            enrolled=_count(Enrolment.objects.active().filter(course=OuterRef("pk")), "course"),
            session_count=_count(sessions, "course"),
            sessions_held=_count(sessions.filter(date__lte=today), "course"),
            registers_taken=Coalesce(
                Subquery(
                    entries.order_by()
                    .values("session__course")
                    .annotate(n=Count("session", distinct=True))
                    .values("n"),
                    output_field=IntegerField(),
                ),
                0,
            ),
            starts_on=Subquery(sessions.values("course").annotate(d=Min("date")).values("d")),
            ends_on=Subquery(sessions.values("course").annotate(d=Max("date")).values("d")),
            next_session_on=Subquery(
                sessions.filter(date__gte=today).values("course").annotate(d=Min("date")).values("d")
            ),
            attended_entries=_count(entries.filter(contact__attendance__in=ATTENDED_CODES), "session__course"),
            # Sessions the provider cancelled are not the patient's non-attendance.
            offered_entries=_count(
                entries.exclude(contact__attendance=Attendance.CANCELLED_BY_PROVIDER), "session__course"
            ),
        )


class CourseSessionQuerySet(models.QuerySet):
    def visible_to(self, user):
        Course = apps.get_model("workshops", "GroupCourse")
        return self.filter(course__in=Course.objects.visible_to(user).values("pk"))


class EnrolmentQuerySet(models.QuerySet):
    def active(self):
        """Enrolled, not withdrawn, and the referral still open."""
        return self.filter(withdrawn_on__isnull=True).exclude(referral__status="discharged")

    def visible_to(self, user):
        Course = apps.get_model("workshops", "GroupCourse")
        return self.filter(
            Q(course__in=Course.objects.visible_to(user).values("pk"))
            | Q(referral__in=Referral.objects.visible_to(user).values("pk"))
        )

    def for_session(self, session):
        """Who belongs on this session's register: enrolled by its date, not withdrawn before it, still open."""
        return (
            self.filter(course_id=session.course_id, enrolled_on__lte=session.date)
            .filter(Q(withdrawn_on__isnull=True) | Q(withdrawn_on__gt=session.date))
            .exclude(referral__status="discharged")
        )

    def waiting(self, today):
        """Active enrolments whose course has not started yet (no session on or before ``today``).

        The long-wait review rule needs these: the referral is still waiting for treatment.
        """
        CourseSession = apps.get_model("workshops", "CourseSession")
        first = (
            CourseSession.objects.filter(course=OuterRef("course_id"))
            .order_by()
            .values("course")
            .annotate(d=Min("date"))
            .values("d")
        )
        return (
            self.active()
            .filter(course__status__in=OPEN_STATUSES)
            .annotate(course_starts_on=Subquery(first))
            .filter(Q(course_starts_on__gt=today) | Q(course_starts_on__isnull=True))
        )


class RegisterEntryQuerySet(models.QuerySet):
    def valid(self):
        """Entries whose contact stands (a contact corrected elsewhere voids its entry too)."""
        return self.filter(entered_in_error=False, contact__entered_in_error=False)


def course_waits(referral_ids, today):
    """For the long-wait review rule: {referral_id: (enrolled_on, course_starts_on or None)} of the
    referrals among ``referral_ids`` that are enrolled in a course that has not started. One query."""
    Enrolment = apps.get_model("workshops", "Enrolment")
    waits = {}
    for rid, enrolled_on, starts_on in (
        Enrolment.objects.waiting(today)
        .filter(referral_id__in=referral_ids)
        .order_by("referral_id", "enrolled_on")
        .values_list("referral_id", "enrolled_on", "course_starts_on")
    ):
        waits.setdefault(rid, (enrolled_on, starts_on))
    return waits
