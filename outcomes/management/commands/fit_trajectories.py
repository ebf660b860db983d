"""Fit the expected recovery curves ("not on track") from each team's finished courses.

The weekly Celery job does the same (``outcomes.tasks.fit_trajectories``); each run keeps a new
version of the fit, with its method, N and the end dates of the courses it rests on.
"""

import datetime as dt

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from outcomes import services, trajectories
from stepped_care.models import Team


def date_argument(value):
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise CommandError(f"Give the date as YYYY-MM-DD, not {value!r}.") from None


class Command(BaseCommand):
    help = "Fit the expected recovery curves of every team (or one) from its finished courses."

    def add_arguments(self, parser):
        parser.add_argument("--team", help="Only this team (its code)")
        parser.add_argument("--method", default=trajectories.DEFAULT_METHOD, choices=sorted(trajectories.METHODS))
        parser.add_argument("--min-n", type=int, default=trajectories.DEFAULT_MIN_N)
        parser.add_argument("--max-session", type=int, default=trajectories.DEFAULT_MAX_SESSION)
        parser.add_argument("--ended-before", type=date_argument, help="Hold out courses ending on or after this")

    def handle(self, *args, **options):
        teams = Team.objects.order_by("name")
        if options["team"]:
            teams = teams.filter(code=options["team"])
            if not teams:
                raise CommandError(f"No team with code {options['team']!r}.")
        for team in teams:
            try:
                fit = services.fit_trajectories(
                    team=team,
                    method=options["method"],
                    min_n=options["min_n"],
                    max_session=options["max_session"],
                    ended_before=options["ended_before"],
                )
            except ValidationError as e:
                raise CommandError("; ".join(f"{k}: {' '.join(v)}" for k, v in e.message_dict.items())) from None
            cells = fit.cells.count()
            self.stdout.write(
                f"{team.name}: fit v{fit.version} ({fit.method}) over {fit.courses} finished courses "
                f"ending {fit.ended_from or '-'} to {fit.ended_to or '-'}: {cells} cells, {fit.seconds:.1f} s"
            )
