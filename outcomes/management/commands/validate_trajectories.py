"""How well would the not-on-track alert have done? Curves fitted on finished courses that ended
before a split date, judged on those that ended after it: the share flagged by session 4 and, against
non-recovery, sensitivity, specificity and positive predictive value, for each tolerance percentile,
with the share of active cases each would flag (to tune the team's ``not_on_track_percentile``).
The managers' page (dashboard, "Not on track") shows the same report."""

from django.core.management.base import BaseCommand, CommandError

from outcomes import queries, trajectories
from stepped_care import review
from stepped_care.models import Team

from .fit_trajectories import date_argument


def percent(value):
    return "–" if value is None else f"{value:.0%}"


class Command(BaseCommand):
    help = "Validate the expected recovery curves on held-out finished courses (split by time)."

    def add_arguments(self, parser):
        parser.add_argument("--team", required=True, help="The team (its code)")
        parser.add_argument("--split", type=date_argument, help="Hold out courses ending on or after this date")
        parser.add_argument("--by-session", type=int, default=4)
        parser.add_argument("--target", type=float, default=0.20, help="Share of active cases to flag (0-1)")
        parser.add_argument("--method", default=trajectories.DEFAULT_METHOD, choices=sorted(trajectories.METHODS))
        parser.add_argument("--min-n", type=int, default=trajectories.DEFAULT_MIN_N)

    def handle(self, *args, **options):
        team = Team.objects.filter(code=options["team"]).first()
        if team is None:
            raise CommandError(f"No team with code {options['team']!r}.")
        if not 0 < options["target"] < 1:
            raise CommandError("Give the target share as a fraction between 0 and 1, e.g. 0.2.")
        if options["by_session"] < trajectories.FIRST_JUDGED_SESSION:
            raise CommandError("Give a session of at least 2 (session 1 is the intake).")
        params = review.parameters(team.review_parameters, strict=False)
        report = queries.trajectory_validation(
            team.pk,
            split=options["split"],
            by_session=options["by_session"],
            target=options["target"],
            tolerance=params["not_on_track_percentile"],
            outer=params["not_on_track_outer"],
            method_name=options["method"],
            min_n=options["min_n"],
        )
        if report.empty:
            self.stdout.write(
                f"{team.name}: nothing to validate (split {report.split or '-'}: {report.fit_courses} courses "
                f"fitted, {report.cells} cells, {report.held_out} held-out courses with an outcome)."
            )
            return
        self.stdout.write(
            f"{team.name}: {report.method} fitted on {report.fit_courses} finished courses ending before "
            f"{report.split} ({report.cells} cells); {report.held_out} held-out courses; flagged by session "
            f"{report.by_session}; red above the {report.outer}th percentile; {report.active_judged} active cases."
        )
        self.stdout.write("amber above  flagged  sensitivity  specificity  PPV    active flagged")
        for row in report.rows:
            v = row.held_out
            mark = (" <- closest to target" if row.closest else "") + (" (current)" if row.current else "")
            self.stdout.write(
                f"{row.tolerance}th{'':9}{percent(v.flagged_share):>7}  {percent(v.sensitivity):>11}  "
                f"{percent(v.specificity):>11}  {percent(v.ppv):>5}  {percent(row.active_share):>14}{mark}"
            )
