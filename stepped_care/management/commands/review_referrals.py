"""Run the review rules now: for one referral, one team or every active referral.

The same service as the Celery tasks, run in this process. ``--dry-run`` prints what would change and
writes nothing.
"""

import uuid

from django.core.management.base import BaseCommand, CommandError

from referrals.models import Referral
from stepped_care import services
from stepped_care.models import Team


class Command(BaseCommand):
    help = "Review referrals: raise, update and clear review flags (--dry-run writes nothing)."

    def add_arguments(self, parser):
        parser.add_argument("--referral", action="append", help="Referral id (repeatable); default: all active")
        parser.add_argument("--team", help="Team code: only this team's active referrals")
        parser.add_argument("--dry-run", action="store_true", help="Show what would change; write nothing")
        parser.add_argument("--chunk-size", type=int, default=2000)

    def handle(self, *args, referral=None, team=None, dry_run=False, chunk_size=2000, **options):
        if chunk_size < 1:
            raise CommandError("--chunk-size must be at least 1.")
        if referral:
            wanted = _uuids(referral)
            found = set(Referral.objects.filter(pk__in=wanted).values_list("pk", flat=True))
            missing = [str(r) for r in wanted if r not in found]
            if missing:
                raise CommandError(f"No referral with id {', '.join(missing)}.")
            outcome = services.review_referrals(wanted, dry_run=dry_run)
        else:
            team_id = None
            if team:
                team_id = Team.objects.filter(code=team).values_list("pk", flat=True).first()
                if team_id is None:
                    raise CommandError(f"No team with code {team}.")
            outcome = services.scan(team_id=team_id, chunk_size=chunk_size, dry_run=dry_run)
        if dry_run or options.get("verbosity", 1) > 1:
            for rid, finding in outcome.raised:
                self.stdout.write(f"raise  {rid} {finding.rule} ({finding.severity}): {finding.explanation}")
            for rid, _flag, finding in outcome.updated:
                self.stdout.write(f"update {rid} {finding.rule} ({finding.severity}): {finding.explanation}")
            for rid, _flag, rule, reason in outcome.cleared:
                self.stdout.write(f"clear  {rid} {rule}: {reason}")
        verb = "would be" if dry_run else ""
        self.stdout.write(
            self.style.SUCCESS(
                f"Reviewed {outcome.reviewed} referrals: {len(outcome.raised)} flags {verb} raised, "
                f"{len(outcome.updated)} {verb} updated, {len(outcome.cleared)} {verb} cleared, "
                f"{outcome.unchanged} referrals unchanged.".replace("  ", " ")
            )
        )


def _uuids(values):
    out = []
    for value in values:
        try:
            out.append(uuid.UUID(str(value)))
        except ValueError:
            raise CommandError(f"{value} is not a referral id.") from None
    return out
