"""Demo group workshops for the demo service (run after seed_demo): a running stress course with two
registers taken, an online worry course and a high-intensity course still to start (so the
"waiting for a course" list has people on it). Idempotent: courses are matched by title."""

import datetime as dt
import random

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from referrals.models import Referral
from stepped_care.models import Staff, Team
from workshops import services
from workshops.models import GroupCourse

TEAM_CODE = "TMS"
COURSES = [
    # title, topic, step, facilitators, delivery, venue, first session (days from today), sessions, enrol
    ("Stress control, Bootle library", "stress", 2, ("pwp1", "pwp2"), "venue", "Bootle library", -14, 4, 8),
    ("Managing worry, online", "worry", 2, ("pwp2", "pwptrainee1"), "online", "", 10, 4, 5),
    ("CBT for depression group", "hi_depression", 3, ("hit1", "hit2"), "venue", "Crosby health centre", 21, 8, 3),
]


class Command(BaseCommand):
    help = "Load demo group courses into the demo service (after seed_demo). Idempotent."

    def add_arguments(self, parser):
        parser.add_argument("--seed", type=int, default=2026)
        parser.add_argument("--force", action="store_true", help="Run even with DEBUG off")

    def handle(self, *args, **options):
        if not settings.DEBUG and not options["force"]:
            raise CommandError("seed_groups refuses to run with DEBUG off (a live service?). Use --force if sure.")
        team = Team.objects.filter(code=TEAM_CODE).first()
        if team is None:
            raise CommandError("Run seed_demo first: the demo team is missing.")
        rng = random.Random(options["seed"])
        today = timezone.localdate()
        manager = Staff.objects.filter(team=team, role="manager").first()
        taken = set()
        for title, topic, step, names, delivery, venue, first, count, enrol in COURSES:
            if GroupCourse.objects.filter(team=team, title=title).exists():
                continue
            facilitators = list(Staff.objects.filter(team=team, username__in=names))
            if not facilitators:
                continue
            with transaction.atomic():
                self._course(
                    team,
                    manager or facilitators[0],
                    facilitators,
                    title,
                    topic,
                    step,
                    delivery,
                    venue,
                    today + dt.timedelta(days=first),
                    count,
                    enrol,
                    taken,
                    today,
                    rng,
                )
            self.stdout.write(f"Group course: {title}")
        self.stdout.write(self.style.SUCCESS(f"{GroupCourse.objects.filter(team=team).count()} group courses."))

    def _course(
        self, team, by, facilitators, title, topic, step, delivery, venue, first, count, enrol, taken, today, rng
    ):
        course = services.create_course(
            by=by,
            team=team,
            title=title,
            topic=topic,
            step=step,
            facilitators=facilitators,
            capacity=12 if step == 2 else 8,
            delivery=delivery,
            venue=venue,
            sessions=[
                (first + dt.timedelta(days=7 * n), dt.time(18, 0) if step == 2 else dt.time(14, 0))
                for n in range(count)
            ],
        )
        enrol_on = min(today, first) - dt.timedelta(days=7)
        candidates = (
            Referral.objects.filter(team=team, received_on__lte=enrol_on)
            .exclude(status="discharged")
            .exclude(pk__in=taken)
            .filter(current_step=step)
            .order_by("received_on", "pk")
        )
        if first > today:  # still to start: people waiting for treatment
            candidates = candidates.filter(status__in=("awaiting_treatment", "in_treatment"))
        members = []
        for referral in candidates[:enrol]:
            members.append(services.enrol(course=course, referral=referral, by=by, on=enrol_on))
            taken.add(referral.pk)
        for session in course.sessions.filter(date__lt=today).order_by("number"):
            rows = []
            for enrolment in services.register_rows(session):
                attendance = rng.choices(["5", "6", "3", "2"], weights=[75, 8, 12, 5])[0]
                row = {"enrolment": enrolment, "attendance": attendance}
                if attendance in ("5", "6"):
                    level = rng.randint(0, 2)
                    row["phq9"] = [min(3, max(0, level + rng.randint(-1, 1))) for _ in range(8)] + [0]
                    row["gad7"] = [min(3, max(0, level + rng.randint(-1, 1))) for _ in range(7)]
                rows.append(row)
            if rows:
                services.take_register(session=session, rows=rows, by=facilitators[0])
        return course
