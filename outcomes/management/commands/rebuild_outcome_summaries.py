"""Rebuild the per-referral outcome summaries from the raw contact and questionnaire rows.

The summaries are kept current by the services in the same transaction as every write; this command
is the proof and the repair: ``--check`` reports how many stored rows differ from a rebuild (and
changes nothing), otherwise every row is recomputed with the same function the services use.
"""

import time

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from common import audit
from common.database import analyze_tables
from outcomes.models import OutcomeSummary
from outcomes.services import refresh_summaries
from referrals.models import Referral
from stepped_care.models import Team

COMPARED = [f.attname for f in OutcomeSummary._meta.concrete_fields if f.name != "updated_at"]


def _snapshot(ids):
    return {row["referral_id"]: row for row in OutcomeSummary.objects.filter(referral_id__in=ids).values(*COMPARED)}


class Command(BaseCommand):
    help = "Rebuild outcome summaries from raw rows (--check: only report rows that differ)."

    def add_arguments(self, parser):
        parser.add_argument("--team", help="Only this team (its code)")
        parser.add_argument("--batch-size", type=int, default=2000)
        parser.add_argument("--check", action="store_true", help="Report differences; change nothing")

    def handle(self, *args, **options):
        started = time.monotonic()
        referrals = Referral.objects.only("id", "team_id", "discharged_on").order_by("id")
        if options["team"]:
            team = Team.objects.filter(code=options["team"]).first()
            if team is None:
                raise CommandError(f"No team with code {options['team']!r}.")
            referrals = referrals.filter(team=team)
        size = options["batch_size"]
        if size < 1:
            raise CommandError("--batch-size must be at least 1.")
        seen = differed = 0
        last = None
        while True:
            batch = list((referrals.filter(id__gt=last) if last else referrals)[:size])
            if not batch:
                break
            last = batch[-1].pk
            ids = [r.pk for r in batch]
            with transaction.atomic():
                before = _snapshot(ids)
                refresh_summaries(batch)
                after = _snapshot(ids)
                differed += sum(1 for pk in ids if before.get(pk) != after.get(pk))
                if options["check"]:
                    transaction.set_rollback(True)
            seen += len(batch)
        elapsed = time.monotonic() - started
        if options["check"]:
            self.stdout.write(f"{seen} referrals checked: {differed} summaries differ from a rebuild ({elapsed:.1f}s).")
            if differed:
                raise CommandError(f"{differed} outcome summaries differ from their raw rows; run without --check.")
            return
        audit.record(None, "outcomes.rebuild_summaries", None, changes={"referrals": seen, "changed": differed})
        analyze_tables(["outcomes_outcomesummary"])  # every row rewritten: fresh planner statistics
        self.stdout.write(
            self.style.SUCCESS(f"{seen} outcome summaries rebuilt; {differed} had differed ({elapsed:.1f}s).")
        )
