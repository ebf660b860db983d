"""Build a believable demo service: a team, staff in every role, supervision, and referrals with
plausible PHQ-9/GAD-7 trajectories (improving, flat, deteriorating, disengaging, discharged), each with
a coded presenting problem and, for most specific anxiety disorders, the disorder-specific measure (SPIN,
PCL-5, OCI, PDSS, HAI, Mobility Inventory) session by session.

Idempotent: staff are matched by username and referrals are only added up to ``--referrals``.
Bulk inserts keep ``--referrals 150000`` (about a million contacts) to minutes.
"""

import datetime as dt
import random
import secrets
import time
import uuid

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from appointments import services as diary
from appointments.models import AppointmentLength, WorkingPattern
from common.database import analyze_tables
from frontdoor.models import FrontDoor, GPPractice
from outcomes.metrics import referral_facts
from outcomes.models import OutcomeSummary, QuestionnaireResponse
from outcomes.problems import ICD10, ProblemRecord
from outcomes.scoring import INSTRUMENTS, adsm_for, score
from outcomes.services import fit_trajectories
from referrals.codes import EndCode, PresentingProblem, ReferralSource
from referrals.models import CareContact, Patient, PresentingProblemRecord, Referral, ReferralEvent
from referrals.validators import nhs_number_is_valid
from stepped_care.models import Role, Staff, StepAssignment, StepSource, Team
from stepped_care.services import scan
from supervision.models import SupervisionRelationship, SupervisionType
from supervision.services import seed_demo_sessions

# A demo service of a few hundred referrals has tens of finished courses per intake band, not the
# hundreds a real service has: its curves are fitted from cells of at least this many courses.
DEMO_MIN_N = 10
TEAM = {"code": "TMS", "name": "Talking Matters Sefton"}
OTHER_TEAM = {"code": "TMK", "name": "Talking Matters Knowsley"}
# GP practices of the demo team's area (made-up ODS codes): who its self-referral form is for.
DEMO_PRACTICES = [
    ("N84001", "Bootle Health Centre"),
    ("N84002", "Crosby Village Surgery"),
    ("N84003", "Southport Medical Group"),
]
STAFF = [
    # username, first, last, role, supervises, team
    ("pwp1", "Priya", "Walsh", Role.PWP, False, TEAM),
    ("pwp2", "Owen", "Hughes", Role.PWP, False, TEAM),
    ("pwptrainee1", "Grace", "Okafor", Role.PWP_TRAINEE, False, TEAM),
    ("hit1", "Hannah", "Iqbal", Role.HI_THERAPIST, False, TEAM),
    ("hit2", "Tom", "Brennan", Role.HI_THERAPIST, False, TEAM),
    ("hitrainee1", "Leah", "Morris", Role.HI_TRAINEE, False, TEAM),
    ("step4", "Daniel", "Kerr", Role.STEP4, False, TEAM),
    ("counsellor1", "Ruth", "Adeyemi", Role.COUNSELLOR, False, TEAM),
    ("supervisor1", "Sarah", "Lindqvist", Role.HI_THERAPIST, True, TEAM),
    ("manager1", "Michael", "Doyle", Role.MANAGER, False, TEAM),
    ("admin", "Alex", "Admin", Role.ADMINISTRATOR, False, TEAM),
    ("otherpwp1", "Kim", "Parry", Role.PWP, False, OTHER_TEAM),
    ("othermanager1", "Jo", "Fenton", Role.MANAGER, False, OTHER_TEAM),
]
GIVEN = [
    "Amelia",
    "Oliver",
    "Isla",
    "George",
    "Ava",
    "Noah",
    "Mia",
    "Arthur",
    "Ivy",
    "Leo",
    "Freya",
    "Oscar",
    "Lily",
    "Harry",
    "Ella",
    "Jack",
    "Grace",
    "Charlie",
    "Sophia",
    "Theo",
    "Rosie",
    "Alfie",
    "Evie",
    "Jacob",
    "Aisha",
    "Mohammed",
    "Zara",
    "Yusuf",
    "Chloe",
    "Ryan",
    "Megan",
    "Liam",
    "Niamh",
    "Kai",
]
FAMILY = [
    "Smith",
    "Jones",
    "Taylor",
    "Brown",
    "Williams",
    "Wilson",
    "Johnson",
    "Davies",
    "Robinson",
    "Wright",
    "Thompson",
    "Evans",
    "Walker",
    "White",
    "Roberts",
    "Green",
    "Hall",
    "Wood",
    "Jackson",
    "Clarke",
    "Patel",
    "Khan",
    "Lewis",
    "Hughes",
    "Ahmed",
    "Murphy",
    "Kelly",
    "Byrne",
    "Shaw",
]
PRACTICES = [
    "Crosby Village Surgery",
    "Bootle Health Centre",
    "Southport Medical Practice",
    "Formby Village Surgery",
    "Litherland Town Hall Practice",
    "Maghull Health Centre",
]


def spread(total, count, item_max, rng, keep_last_zero=False):
    """Random item answers summing to ``total`` (the last item kept at 0 when asked and possible)."""
    slots = count - 1 if keep_last_zero and total <= (count - 1) * item_max else count
    items = [0] * count
    for _ in range(total):
        open_slots = [i for i in range(slots) if items[i] < item_max]
        items[rng.choice(open_slots)] += 1
    return items


CODES_OF = {}
for _code, (_title, _problem) in ICD10.items():
    CODES_OF.setdefault(_problem, []).append(_code)
ADSM_MEASURED = 0.75  # share of specific anxiety disorders measured with their own ADSM


def adsm_items(measure, fraction, rng):
    """Item answers of an ADSM at ``fraction`` (0-1) of its range."""
    inst = INSTRUMENTS[measure]
    span = inst.item_max - inst.item_min
    raw = round(max(0.0, min(1.0, fraction)) * span * inst.item_count)
    return [inst.item_min + v for v in spread(raw, inst.item_count, span, rng)]


def nhs_number(rng, used):
    """A valid NHS number not yet in ``used`` (which it joins): re-runs and large seeds never collide."""
    while True:
        candidate = f"{rng.randrange(400000000, 999999999):09d}"
        for check in range(10):
            number = candidate + str(check)
            if nhs_number_is_valid(number) and number not in used:
                used.add(number)
                return number


class Command(BaseCommand):
    help = "Load demo data (idempotent). Refuses to run with DEBUG off unless --force."

    def add_arguments(self, parser):
        parser.add_argument("--password", help="Password for every demo account (otherwise random, printed once)")
        parser.add_argument("--referrals", type=int, default=200, help="How many referrals the demo team should have")
        parser.add_argument("--years", type=float, default=None, help="Span of referral dates (default scales)")
        parser.add_argument("--seed", type=int, default=2026)
        parser.add_argument("--force", action="store_true", help="Run even with DEBUG off")
        parser.add_argument(
            "--skip-extras",
            action="store_true",
            help="Skip the review scan, supervision sessions and group courses (always skipped above 5,000 referrals)",
        )

    def handle(self, *args, **options):
        if not settings.DEBUG and not options["force"]:
            raise CommandError("seed_demo refuses to run with DEBUG off (a live service?). Use --force if sure.")
        rng = random.Random(options["seed"])
        started = time.monotonic()
        password = options["password"]
        generated = None
        if not password and not Staff.objects.filter(username="pwp1").exists():
            password = generated = secrets.token_urlsafe(12)
        with transaction.atomic():
            team, staff = self._staff(password, options["referrals"])
        wanted = options["referrals"]
        existing = Referral.objects.filter(team=team).count()
        if existing < wanted:
            years = options["years"] or (1.0 if wanted <= 1000 else 3.0)
            self._referrals(team, staff, wanted - existing, years, rng)
            # Fresh planner statistics after the bulk load: without them the review scan below (and the
            # first pages) plan as if the tables were empty (issue 21.9: 9 minutes instead of 2.3 s).
            analysed = analyze_tables()
            if analysed:
                self.stdout.write(f"Planner statistics refreshed on {len(analysed)} tables (ANALYZE).")
        if not options["skip_extras"] and wanted <= 5000:
            self._extras(team, options["force"])
        self._diaries(team, staff)
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo service {team.name}: {Referral.objects.filter(team=team).count()} referrals "
                f"({time.monotonic() - started:.1f}s)."
            )
        )
        self.stdout.write("Demo accounts: " + ", ".join(s[0] for s in STAFF))
        if options["password"]:
            self.stdout.write(f"Password for every demo account: {options['password']}")
        elif generated:
            self.stdout.write(f"Password for every demo account (shown once): {generated}")
        else:
            self.stdout.write("Passwords unchanged (pass --password to set them).")

    def _extras(self, team, force):
        """What a service has after a while: expected recovery curves fitted from its finished courses
        (before the review scan, so that the not-on-track rule has them), review flags, supervision
        sessions, group courses."""
        fit = fit_trajectories(team=team, min_n=DEMO_MIN_N)
        self.stdout.write(
            f"Expected recovery curves: fit v{fit.version} over {fit.courses} finished courses, "
            f"{fit.cells.count()} cells of at least {DEMO_MIN_N} courses."
        )
        outcome = scan(team_id=team.pk)
        sessions = seed_demo_sessions(team)
        call_command("seed_groups", force=True, stdout=self.stdout)
        self.stdout.write(
            f"Review scan of {outcome.reviewed} active referrals: {len(outcome.raised)} flags raised, "
            f"{len(outcome.cleared)} cleared; supervision sessions added: {sessions}."
        )

    def _diaries(self, team, clinicians):
        """Working patterns (weekdays 9 to 5, Wednesday afternoons remote) for every clinician, the team's
        appointment lengths, and for the named demo clinicians a day of appointments today (My day)
        and some in two days (the reminders). Booked through the services; a second run adds nothing."""
        today = timezone.localdate()
        for kind, minutes in (("01", 60), ("02", 45), ("03", 60), ("05", 45), ("GR", 90)):
            AppointmentLength.objects.get_or_create(team=team, appointment_type=kind, defaults={"minutes": minutes})
        has_pattern = set(WorkingPattern.objects.filter(team=team).values_list("clinician_id", flat=True))
        patterns = []
        for clinician in clinicians:
            if clinician.pk in has_pattern:
                continue
            for weekday in range(1, 6):
                blocks = [(dt.time(9), dt.time(12, 30), "room"), (dt.time(13, 30), dt.time(17), "room")]
                if weekday == 3:
                    blocks[1] = (dt.time(13, 30), dt.time(17), "remote")
                for start, end, where in blocks:
                    patterns.append(
                        WorkingPattern(
                            clinician=clinician,
                            team=team,
                            weekday=weekday,
                            start=start,
                            end=end,
                            location=where,
                            room="Room 2, Bootle Health Centre" if where == "room" else "",
                            valid_from=today - dt.timedelta(days=365),
                        )
                    )
        WorkingPattern.objects.bulk_create(patterns)
        booked = 0
        for name in ("pwp1", "pwp2", "hit1"):
            clinician = next((c for c in clinicians if c.username == name), None)
            if clinician is None or clinician.appointments.exists():
                continue
            cases = list(
                Referral.objects.filter(
                    care_coordinator=clinician, status__in=("in_treatment", "awaiting_treatment")
                ).order_by("-status", "received_on")[:6]
            )
            plan = [(0, dt.time(9, 0)), (0, dt.time(10, 0)), (0, dt.time(11, 0)), (0, dt.time(14, 0))]
            plan += [(2, dt.time(9, 30)), (2, dt.time(11, 0))]
            for referral, (days, at) in zip(cases, plan, strict=False):
                starts_at = timezone.make_aware(dt.datetime.combine(today + dt.timedelta(days=days), at))
                mechanism = "02" if at.hour == 14 else "01"
                diary.book(
                    referral=referral,
                    clinician=clinician,
                    starts_at=starts_at,
                    appointment_type="02",
                    mechanism=mechanism,
                    by=clinician,
                )
                booked += 1
            waiting = Referral.objects.filter(
                team=team, status="awaiting_assessment", care_coordinator__isnull=True, appointments__isnull=True
            ).order_by("received_on")
            first = waiting.first()
            if first is not None:
                starts_at = timezone.make_aware(dt.datetime.combine(today, dt.time(15, 30)))
                diary.book(
                    referral=first, clinician=clinician, starts_at=starts_at, appointment_type="01", by=clinician
                )
                booked += 1
        # pwp2 is off sick today and tomorrow, pwp1 covering: pwp1's My day shows pwp2's appointments
        # too, labelled "Covering for", and pwp1 may record their outcomes.
        away = next((c for c in clinicians if c.username == "pwp2"), None)
        cover = next((c for c in clinicians if c.username == "pwp1"), None)
        leave = 0
        if away is not None and cover is not None and not away.leave.exists():
            diary.record_leave(
                clinician=away, starts_on=today, ends_on=today + dt.timedelta(days=1), cover=cover, by=away
            )
            leave = 1
        self.stdout.write(
            f"Diaries: {len(patterns)} working pattern blocks, {booked} appointments booked, {leave} leave with cover."
        )

    def _front_door(self, team):
        """The demo team's public self-referral form (/refer/talking-matters-sefton/) and its area's practices."""
        door, _ = FrontDoor.objects.get_or_create(team=team, defaults={"slug": "talking-matters-sefton"})
        for code, name in DEMO_PRACTICES:
            GPPractice.objects.get_or_create(front_door=door, ods_code=code, defaults={"name": name})

    def _staff(self, password, referrals):
        teams = {}
        for spec in (TEAM, OTHER_TEAM):
            teams[spec["code"]], _ = Team.objects.get_or_create(code=spec["code"], defaults={"name": spec["name"]})
        self._front_door(teams[TEAM["code"]])
        people = {}
        roster = list(STAFF)
        # A large service: extra clinicians so that caseloads stay about 60 active cases.
        for n in range(3, 3 + max(0, referrals // 600)):
            roster.append((f"pwp{n}", "Demo", f"PWP {n}", Role.PWP, False, TEAM))
            if n % 2:
                roster.append((f"hit{n}", "Demo", f"HIT {n}", Role.HI_THERAPIST, False, TEAM))
        new_users = []
        for username, first, last, role, supervises, team_spec in roster:
            user = Staff.objects.filter(username=username).first()
            if user is None:
                user = Staff(
                    username=username,
                    first_name=first,
                    last_name=last,
                    role=role,
                    is_supervisor=supervises,
                    team=teams[team_spec["code"]],
                    email=f"{username}@example.nhs.uk",
                )
                if username == "admin":
                    user.is_staff = user.is_superuser = True
                new_users.append(user)
            elif password and not user.check_password(password):
                user.set_password(password)
                user.save(update_fields=["password"])
            people[username] = user
        if new_users:
            # One hash for every new account: hundreds of argon2 hashes would take minutes at scale.
            hashed = make_password(password) if password else make_password(None)
            for user in new_users:
                user.password = hashed
            Staff.objects.bulk_create(new_users)
            people = {u.username: u for u in Staff.objects.filter(username__in=people)}
        today = timezone.localdate()
        sup = people["supervisor1"]
        for name in ("pwp1", "pwp2", "pwptrainee1"):
            for kind, days in ((SupervisionType.CASE_MANAGEMENT, 7), (SupervisionType.CLINICAL_SKILLS, 14)):
                SupervisionRelationship.objects.get_or_create(
                    supervisor=sup,
                    supervisee=people[name],
                    kind=kind,
                    ended_on=None,
                    defaults={"frequency_days": days, "minutes": 60, "started_on": today - dt.timedelta(days=365)},
                )
        for name in ("hit1", "hit2", "hitrainee1"):
            SupervisionRelationship.objects.get_or_create(
                supervisor=sup,
                supervisee=people[name],
                kind=SupervisionType.HIGH_INTENSITY,
                ended_on=None,
                defaults={"frequency_days": 7, "minutes": 60, "started_on": today - dt.timedelta(days=365)},
            )
        team = teams[TEAM["code"]]
        clinicians = [u for u in people.values() if u.team_id == team.pk and u.is_clinician]
        return team, clinicians

    def _referrals(self, team, clinicians, count, years, rng):
        today = timezone.localdate()
        span = int(365 * years)
        low = [c for c in clinicians if c.role in (Role.PWP, Role.PWP_TRAINEE)]
        high = [c for c in clinicians if c.role in (Role.HI_THERAPIST, Role.HI_TRAINEE, Role.STEP4)] or low
        made = 0
        used = set(Patient.objects.exclude(nhs_number=None).values_list("nhs_number", flat=True))
        while made < count:
            batch = min(2000, count - made)
            with transaction.atomic():
                self._batch(team, low, high, batch, today, span, rng, used)
            made += batch
            if count > 2000:
                self.stdout.write(f"  {made}/{count} referrals")

    def _batch(self, team, low, high, count, today, span, rng, used):
        patients, referrals, steps, contacts, scores, events, summaries = [], [], [], [], [], [], []
        problems = []
        now = timezone.now()
        for _ in range(count):
            patient = Patient(
                id=uuid.uuid4(),
                team=team,
                given_name=rng.choice(GIVEN),
                family_name=rng.choice(FAMILY),
                nhs_number=nhs_number(rng, used) if rng.random() < 0.9 else None,
                date_of_birth=today - dt.timedelta(days=rng.randint(18 * 365, 80 * 365)),
                gp_practice=rng.choice(PRACTICES),
                postcode=f"L{rng.randint(10, 39)} {rng.randint(1, 9)}AB",
                long_term_conditions=rng.sample(
                    ["diabetes", "copd", "cardiac", "chronic_pain", "ibs"], k=rng.choice([0, 0, 0, 1, 2])
                ),
            )
            patients.append(patient)
            received = today - dt.timedelta(days=rng.randint(0, span))
            step = 2 if rng.random() < 0.7 else 3
            coordinator = rng.choice(low if step == 2 else high)
            referral = Referral(
                id=uuid.uuid4(),
                patient=patient,
                team=team,
                received_on=received,
                source=rng.choice(ReferralSource.values),
                presenting_problem=rng.choice(PresentingProblem.values),
                ltc_pathway=bool(patient.long_term_conditions),
                care_coordinator=coordinator,
            )
            referrals.append(referral)
            problem = referral.presenting_problem
            problems.append(
                PresentingProblemRecord(
                    referral=referral,
                    code=rng.choice(CODES_OF.get(problem, [""])),
                    problem=problem,
                    significance="primary",
                    recorded_on=received,
                    created_by=coordinator,
                    created_at=now,
                )
            )
            adsm = adsm_for(problems[-1].code)
            measured = adsm if adsm and rng.random() < ADSM_MEASURED else None
            self._trajectory(referral, step, coordinator, today, rng, steps, contacts, scores, events, now, measured)
            if referral.status == "awaiting_assessment" and rng.random() < 0.5:
                referral.care_coordinator = None  # on the team's waiting list for allocation
        Patient.objects.bulk_create(patients, batch_size=1000)
        Referral.objects.bulk_create(referrals, batch_size=1000)
        StepAssignment.objects.bulk_create(steps, batch_size=2000)
        CareContact.objects.bulk_create(contacts, batch_size=2000)
        QuestionnaireResponse.objects.bulk_create(scores, batch_size=2000)
        ReferralEvent.objects.bulk_create(events, batch_size=2000)
        PresentingProblemRecord.objects.bulk_create(problems, batch_size=2000)
        by_problem = {
            p.referral_id: [ProblemRecord(p.code, p.significance, p.recorded_on, p.created_at, p.problem)]
            for p in problems
        }
        by_referral_contacts, by_referral_scores = {}, {}
        for c in contacts:
            by_referral_contacts.setdefault(c.referral_id, []).append((c.date, c.appointment_type, c.attendance))
        for q in scores:
            by_referral_scores.setdefault(q.referral_id, []).append((q.measure, q.completed_on, q.total, q.item_9))
        for referral in referrals:
            facts, _ = referral_facts(
                sorted(by_referral_contacts.get(referral.pk, []), key=lambda c: c[0]),
                by_referral_scores.get(referral.pk, []),
                problems=by_problem.get(referral.pk, []),
                ended_on=referral.discharged_on,
            )
            summaries.append(OutcomeSummary(referral_id=referral.pk, team_id=team.pk, **facts))
        OutcomeSummary.objects.bulk_create(summaries, batch_size=2000)

    def _trajectory(self, referral, step, clinician, today, rng, steps, contacts, scores, events, now, adsm=None):
        """Contacts and scores for one referral: wait, assessment, weekly sessions, maybe discharge; with
        ``adsm``, that disorder-specific measure too, moving as the GAD-7 does."""
        kind = rng.choices(["improving", "flat", "deteriorating", "disengaging"], [55, 25, 8, 12])[0]
        wait = rng.randint(3, 50)
        assess_on = referral.received_on + dt.timedelta(days=wait)
        referral.status = "awaiting_assessment"
        if assess_on > today:
            return
        phq, gad = rng.randint(6, 24), rng.randint(4, 19)
        planned = rng.randint(4, 8) if step == 2 else rng.randint(8, 16)
        target_phq = {
            "improving": rng.randint(2, 9),
            "flat": phq + rng.randint(-3, 2),
            "deteriorating": min(27, phq + rng.randint(4, 9)),
            "disengaging": phq - rng.randint(0, 4),
        }[kind]
        target_gad = {
            "improving": rng.randint(1, 7),
            "flat": gad + rng.randint(-2, 2),
            "deteriorating": min(21, gad + rng.randint(3, 6)),
            "disengaging": gad - rng.randint(0, 3),
        }[kind]
        target_phq, target_gad = max(0, min(27, target_phq)), max(0, min(21, target_gad))
        adsm_start = rng.uniform(0.35, 0.75)
        adsm_target = {
            "improving": rng.uniform(0.05, 0.3),
            "flat": adsm_start + rng.uniform(-0.05, 0.05),
            "deteriorating": adsm_start + rng.uniform(0.1, 0.2),
            "disengaging": adsm_start - rng.uniform(0.0, 0.1),
        }[kind]

        def add(on, appt, attendance, p=None, g=None):
            contact = CareContact(
                id=uuid.uuid4(),
                referral=referral,
                clinician=clinician,
                date=on,
                appointment_type=appt,
                attendance=attendance,
                mechanism=rng.choice(["01", "02", "11"]),
                therapy_mode="1",
                duration_minutes=45 if appt == "01" else (35 if step == 2 else 55),
                created_by=clinician,
                ltc_service=referral.ltc_pathway,
                risk_note="Risk assessed: passive thoughts, no plan or intent; safety plan reviewed."
                if p is not None and p >= 20
                else "",
            )
            contacts.append(contact)
            if p is None:
                return
            given = [("PHQ9", spread(p, 9, 3, rng, keep_last_zero=p < 20)), ("GAD7", spread(g, 7, 3, rng))]
            if adsm:
                progress = (g - gad) / (target_gad - gad) if target_gad != gad else 1.0
                fraction = adsm_start + (adsm_target - adsm_start) * max(0.0, min(1.0, progress))
                given.append((adsm, adsm_items(adsm, fraction + rng.uniform(-0.03, 0.03), rng)))
            for measure, items in given:
                scores.append(
                    QuestionnaireResponse(
                        contact=contact,
                        referral=referral,
                        measure=measure,
                        completed_on=on,
                        items=items,
                        total=score(measure, items).total,
                        created_by=clinician,
                    )
                )

        add(assess_on, "01", "5", phq, gad)
        referral.status = "awaiting_treatment"
        steps.append(
            StepAssignment(
                referral=referral,
                step=step,
                started_on=assess_on,
                source=StepSource.ASSESSMENT,
                reason="Assessed as suitable for " + ("low" if step == 2 else "high") + " intensity treatment",
                decided_by=clinician,
            )
        )
        on = assess_on + dt.timedelta(days=rng.randint(7, 45))
        attended, dnas, last_on = 0, 0, assess_on
        for session in range(1, planned + 1):
            if on > today:
                break
            if kind == "disengaging" and session > 2 and rng.random() < 0.5:
                add(on, "02", "3")
                dnas += 1
                if dnas >= 2:
                    last_on = on  # discharged after the second did-not-attend, never before it
                    break
            elif rng.random() < 0.1:
                add(on, "02", rng.choice(["3", "2", "4"]))
            else:
                frac = session / planned
                p = round(phq + (target_phq - phq) * frac + rng.uniform(-1.5, 1.5))
                g = round(gad + (target_gad - gad) * frac + rng.uniform(-1.5, 1.5))
                add(on, "02", "5" if rng.random() < 0.9 else "6", max(0, min(27, p)), max(0, min(21, g)))
                attended += 1
                referral.status = "in_treatment"
            last_on = on
            on += dt.timedelta(days=rng.choice([7, 7, 7, 14]))
        finished = session >= planned or (kind == "disengaging" and dnas >= 2)
        discharge_on = last_on + dt.timedelta(days=rng.randint(1, 14))
        if finished and discharge_on <= today:
            referral.status = "discharged"
            referral.discharged_on = discharge_on
            referral.end_code = EndCode.COMPLETED if kind != "disengaging" else EndCode.ENDED_EARLY_PATIENT
            steps[-1].ended_on = discharge_on
            events.append(
                ReferralEvent(
                    referral=referral, kind="discharged", to_value=referral.get_end_code_display(), by=clinician
                )
            )
        referral.current_step = step
