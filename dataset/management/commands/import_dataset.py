"""``manage.py import_dataset file.zip --team CODE --by USERNAME [--dry-run]``: read another system's
data set extract. A dry run prints, line by line, what would be created and what is wrong (file, line,
field) and changes nothing; without it, each referral lands whole or not at all."""

from django.core.management.base import BaseCommand, CommandError

from dataset import imports
from stepped_care.models import Staff, Team


class Command(BaseCommand):
    help = "Import an NHS Talking Therapies data set v2.1 extract (a zip of the tables' CSV files)."

    def add_arguments(self, parser):
        parser.add_argument("file", help="The zip of the extract")
        parser.add_argument("--team", required=True, help="The team (its code) the records join")
        parser.add_argument("--by", required=True, help="The username of the team's service manager importing it")
        parser.add_argument("--dry-run", action="store_true", help="Report what would happen; change nothing")
        parser.add_argument("--quiet", action="store_true", help="Print the problems and the summary, not every line")

    def handle(self, *args, file, team, by, dry_run, quiet, **options):
        team_obj = Team.objects.filter(code=team).first()
        if team_obj is None:
            raise CommandError(f"No team with the code {team!r}.")
        user = Staff.objects.filter(username=by).first()
        if user is None:
            raise CommandError(f"No member of staff with the username {by!r}.")

        def line(file_name, number, action, detail):
            self.stdout.write(f"{file_name}:{number}: {action}: {detail}")

        report = imports.import_extract(file, team=team_obj, by=user, dry_run=dry_run, lines=None if quiet else line)
        for problem in report.problems:
            self.stderr.write(f"{problem.file}:{problem.line}: {problem.field} = {problem.value!r}: {problem.message}")
        verb = "Would create" if dry_run else "Created"
        summary = (
            f"{verb} {report.referrals_created} referrals; {report.referrals_existing} already here; "
            f"{report.referrals_skipped} not imported; {report.problem_count} problems."
        )
        if report.refused:
            raise CommandError(f"Refused, nothing imported: {report.problem_count} problems with whole files.")
        self.stdout.write(self.style.SUCCESS(summary) if not report.problem_count else summary)
