"""``manage.py export_dataset --period 2026-10 [--team CODE] --output file.zip``: the month's national
data set submission, validated; refused (exit status 1, every failure listed, no file) when any row fails."""

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from dataset import rules, services
from stepped_care.models import Team


class Command(BaseCommand):
    help = "Export the NHS Talking Therapies data set v2.1 for a reporting period (one zip: a CSV per table)."

    def add_arguments(self, parser):
        parser.add_argument("--period", required=True, help="YYYY-MM (a calendar month) or YYYY-MM..YYYY-MM")
        parser.add_argument("--team", help="The team's code (needed when there is more than one team)")
        parser.add_argument("--output", required=True, help="The zip file to write")

    def handle(self, *args, period, team, output, **options):
        try:
            period = rules.parse_period(period)
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        teams = Team.objects.filter(code=team) if team else Team.objects.all()
        if teams.count() != 1:
            raise CommandError(f"No team with the code {team!r}." if team else "Name the team: --team CODE.")
        outcome = services.command_export(team=teams.get(), period=period, output=output, now=timezone.localtime())
        for code, file_name, rows, digest in outcome.manifest:
            self.stdout.write(f"{code} {file_name}: {rows} rows sha256 {digest}")
        if outcome.failure_count:
            for failure in outcome.failures:
                self.stderr.write(
                    f"{failure.table} {failure.field} = {failure.value!r} ({failure.record}): "
                    f"{failure.message} {failure.link}"
                )
            raise CommandError(f"Refused: {outcome.failure_count} failures (the file was not written).")
        self.stdout.write(self.style.SUCCESS(f"Wrote {output}"))
