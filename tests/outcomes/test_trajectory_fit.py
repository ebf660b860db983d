"""Fitting a team's curves from its finished courses, through the database (PostgreSQL: in SQL;
SQLite: streamed into the pure fit), kept as a versioned fit with its cells."""

import datetime as dt
from io import StringIO

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command

from common.models import AuditEvent
from outcomes import queries, services, tasks, trajectories
from outcomes.models import TrajectoryFit
from outcomes.scoring import PHQ9
from tests.factories import TeamFactory
from tests.stepped_care.review_helpers import today

from .trajectory_helpers import course

pytestmark = pytest.mark.django_db


@pytest.fixture
def history(pwp):
    """Six finished courses before the split, one after it (held out), one still open."""
    course(pwp, [17, 15, 12], ended_days_ago=40)
    course(pwp, [17, 14, 10], ended_days_ago=45)
    course(pwp, [16, 13, 11], ended_days_ago=50)
    course(pwp, [18, 16, 14], ended_days_ago=55)
    course(pwp, [17, 24, 9, 12], ended_days_ago=60, in_error=(1,))  # session 2 is the 9 once 24 is in error
    course(pwp, [8, 6, 6], ended_days_ago=65)  # intake band 5-9: one course, under the minimum
    course(pwp, [17, 17, 17], ended_days_ago=5)  # after the split
    course(pwp, [17, 20, 20], ended_days_ago=1, discharged=False)
    return today() - dt.timedelta(days=10)


def cells_of(fit):
    return {(c.measure, c.band, c.session): (c.n, c.values) for c in fit.cells.all()}


def test_the_fit_rests_on_finished_courses_before_the_split(pwp, history):
    fit = services.fit_trajectories(team=pwp.team, min_n=3, ended_before=history)
    assert (fit.version, fit.method, fit.courses, fit.min_n) == (1, "empirical-percentiles-v1", 6, 3)
    assert fit.ended_from == today() - dt.timedelta(days=65)
    assert fit.ended_to == today() - dt.timedelta(days=40)
    assert fit.held_out_from == history
    cells = cells_of(fit)
    assert set(cells) == {(PHQ9, 3, 2), (PHQ9, 3, 3)}
    n, values = cells[(PHQ9, 3, 2)]  # 9, 13, 14, 15, 16
    assert n == 5
    assert dict(zip(trajectories.PERCENTILES, values, strict=True))[50] == 14
    assert dict(zip(trajectories.PERCENTILES, values, strict=True))[75] == 15
    assert dict(zip(trajectories.PERCENTILES, values, strict=True))[90] == pytest.approx(15.6)
    n, values = cells[(PHQ9, 3, 3)]  # 10, 11, 12, 12, 14
    assert n == 5
    assert [values[0], values[5], values[8]] == pytest.approx([12, 12, 13.2])
    assert fit.scores == 10
    event = AuditEvent.objects.get(action="trajectories.fit")
    assert event.changes["courses"] == 6 and event.system_actor == "review engine"


def test_the_change_method_and_versions(pwp, history):
    services.fit_trajectories(team=pwp.team, min_n=3, ended_before=history)
    fit = services.fit_trajectories(team=pwp.team, min_n=3, ended_before=history, method="change-from-intake-v1")
    assert fit.version == 2
    n, values = cells_of(fit)[(PHQ9, 3, 2)]  # changes -2, -3, -3, -2, -8
    assert n == 5 and values[0] == -3
    curves = queries.current_curves([pwp.team_id])[pwp.team_id]
    assert (curves.version, curves.method_name, curves.courses) == (2, "change-from-intake-v1", 6)


def test_the_newest_fit_of_each_team_in_one_query(pwp, history, django_assert_num_queries):
    services.fit_trajectories(team=pwp.team, min_n=3)
    services.fit_trajectories(team=pwp.team, min_n=4)
    other = TeamFactory()
    with django_assert_num_queries(1):
        found = queries.current_curves([pwp.team_id, other.pk])
    assert set(found) == {pwp.team_id}
    assert found[pwp.team_id].version == 2
    # nothing held out: the course that ended 5 days ago counts too; intake band 5-9 (N = 1) is left out
    assert {k: c.n for k, c in found[pwp.team_id].cells.items()} == {(PHQ9, 3, 2): 6, (PHQ9, 3, 3): 6}


@pytest.mark.parametrize(
    "kwargs, field",
    [
        ({"method": "nearest-neighbours"}, "method"),
        ({"min_n": 0}, "min_n"),
        ({"max_session": 1}, "max_session"),
        ({"ended_from": dt.date(2026, 2, 1), "ended_before": dt.date(2026, 1, 1)}, "ended_before"),
    ],
)
def test_bad_settings_name_the_field_and_write_nothing(team, kwargs, field):
    with pytest.raises(ValidationError) as caught:
        services.fit_trajectories(team=team, **kwargs)
    assert field in caught.value.message_dict
    assert not TrajectoryFit.objects.exists()


def test_a_team_without_finished_courses_gets_an_empty_fit(team):
    fit = services.fit_trajectories(team=team)
    assert (fit.courses, fit.cells.count(), fit.ended_from) == (0, 0, None)
    assert queries.current_curves([team.pk]) == {}


def test_the_command_and_the_weekly_task(pwp, history):
    out = StringIO()
    call_command("fit_trajectories", "--min-n", "3", "--ended-before", history.isoformat(), stdout=out)
    assert "fit v1 (empirical-percentiles-v1) over 6 finished courses" in out.getvalue()
    assert "2 cells" in out.getvalue()
    with pytest.raises(CommandError, match="No team"):
        call_command("fit_trajectories", "--team", "NOPE")
    with pytest.raises(CommandError, match="YYYY-MM-DD"):
        call_command("fit_trajectories", "--ended-before", "last week")
    assert tasks.fit_trajectories.apply().get() == [2]  # the task body, in-process whatever the broker


def test_the_weekly_fit_is_scheduled(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["weekly-trajectory-fit"]
    assert entry["task"] == "outcomes.tasks.fit_trajectories"
    assert entry["schedule"].day_of_week == {0}


def test_a_fit_already_held_is_not_read_again_and_a_new_fit_is(pwp, history, django_assert_num_queries):
    services.fit_trajectories(team=pwp.team, min_n=3, ended_before=history)
    first = queries.current_curves([pwp.team_id])[pwp.team_id]
    with django_assert_num_queries(1):
        again = queries.current_curves([pwp.team_id])[pwp.team_id]
    assert again is first  # its one row said it is still the newest: no cells read, none parsed
    queries._CURVES.clear()
    assert queries.current_curves([pwp.team_id])[pwp.team_id] == first  # read afresh: the same curves
    services.fit_trajectories(team=pwp.team, min_n=3)  # nothing held out now: a new version, more courses
    with django_assert_num_queries(1):
        newer = queries.current_curves([pwp.team_id])[pwp.team_id]
    assert (newer.version, newer.courses) == (2, 7) and newer != first
    # Another process's fit (not forgotten here): its id is not the one held, so its cells are read.
    held = queries._CURVES[pwp.team_id]
    queries._CURVES[pwp.team_id] = (held[0] - 1, held[1], first)
    assert queries.current_curves([pwp.team_id])[pwp.team_id] == newer
    # A held id on another fit (ids reused after a rollback): the fit's own cells, still one call.
    queries._CURVES[pwp.team_id] = (held[0], held[1] - dt.timedelta(seconds=1), first)
    assert queries.current_curves([pwp.team_id])[pwp.team_id] == newer
