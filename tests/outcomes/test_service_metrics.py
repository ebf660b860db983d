"""Service metrics by database aggregation equal the per-referral rule counted in Python.

A population is generated through the services; for many filters, the database's counts, rates
and drill-down lists must equal what the pure per-referral function (``compute_outcome``) and the
raw contact rows give when counted one referral at a time.
"""

import datetime as dt

import pytest
from django.db import transaction
from django.utils import timezone

from common.standards import standards
from outcomes.metrics import service_rates
from outcomes.queries import (
    COUNT_NAMES,
    NONE,
    MetricFilter,
    referrals_counted,
    service_metrics,
    service_metrics_by,
    service_metrics_overview,
)
from referrals.models import Referral
from stepped_care.models import Role
from tests.factories import StaffFactory, TeamFactory

from .population import build_population, count_in_python, facts_from_raw_rows


@pytest.fixture(scope="module")
def built(django_db_setup, django_db_blocker):
    """One population for the module, built through the services and rolled back at the end."""
    with django_db_blocker.unblock(), transaction.atomic():
        team = TeamFactory(name="Population Team", code="POP")
        clinicians = [
            StaffFactory(username=f"pop_{role}_{n}", team=team, role=role)
            for n, role in enumerate([Role.PWP, Role.PWP, Role.HI_THERAPIST])
        ]
        today = timezone.localdate()
        referrals = build_population(team=team, clinicians=clinicians, by=clinicians[0], today=today, n=40, seed=11)
        yield team, today, [facts_from_raw_rows(r) for r in referrals], clinicians
        transaction.set_rollback(True)


@pytest.fixture
def population(built, db):
    team, today, facts, clinicians = built
    return today, facts, clinicians


@pytest.fixture
def team(built, db):
    return built[0]


def filters(team, today, clinicians):
    year_ago = today - dt.timedelta(days=365)
    yield {}
    yield {"team": team.pk}
    yield {"team": team.pk, "start": year_ago, "end": today}
    yield {"team": team.pk, "start": today - dt.timedelta(days=90), "end": today - dt.timedelta(days=10)}
    yield {"team": team.pk + 999}
    for c in clinicians:
        yield {"team": team.pk, "clinician": c.pk}
    yield {"team": team.pk, "clinician": NONE}
    for step in (2, 3, NONE):
        yield {"team": team.pk, "step": step}
    for problem in ("depression", "gad", "panic"):
        yield {"team": team.pk, "problem": problem}
    yield {"team": team.pk, "ltc": True}
    yield {"team": team.pk, "ltc": False, "step": 2, "start": year_ago, "end": today}


def as_filter(spec):
    return MetricFilter(
        team=spec.get("team"),
        start=spec.get("start"),
        end=spec.get("end"),
        clinician=spec.get("clinician"),
        step=spec.get("step"),
        presenting_problem=spec.get("problem"),
        ltc_pathway=spec.get("ltc"),
    )


@pytest.mark.django_db
def test_database_metrics_equal_the_per_referral_rule_counted_in_python(population, team):
    today, facts, clinicians = population
    targets = standards()["targets"]
    everything, _ = count_in_python(facts)
    # The population exercises what the metrics distinguish.
    for name in (
        "finished",
        "not_caseness",
        "recovered",
        "reliable_improvement",
        "reliable_deterioration",
        "within_6_weeks",
        "with_dna",
        "measured_with_adsm",
    ):
        assert everything[name] > 0, name
    assert everything["within_6_weeks"] < everything["waits_measured"]
    assert everything["measured_with_adsm"] < everything["specific_anxiety"]  # some measured with GAD-7 only
    for spec in filters(team, today, clinicians):
        expected, expected_ids = count_in_python(facts, **spec)
        flt = as_filter(spec)
        got = service_metrics(flt)
        assert got["counts"] == expected, spec
        assert got["rates"] | {"dna_rate": None} == service_rates(expected, targets)["rates"] | {"dna_rate": None}
        assert got["met"] == service_rates(expected, targets)["met"], spec
        for name in COUNT_NAMES:
            listed = set(referrals_counted(Referral.objects.all(), flt, name).values_list("pk", flat=True))
            assert listed == expected_ids[name], (spec, name)


@pytest.mark.django_db
def test_grouped_metrics_partition_the_total(population, team):
    today, facts, clinicians = population
    flt = MetricFilter(team=team.pk, start=today - dt.timedelta(days=400), end=today)
    total = service_metrics(flt)["counts"]
    for group in ("month", "step", "clinician", "presenting_problem"):
        rows = service_metrics_by(flt, group)
        for name in COUNT_NAMES:
            assert sum(m["counts"][name] for _, m in rows) == total[name], (group, name)
    for step, metrics in service_metrics_by(flt, "step"):
        expected, _ = count_in_python(facts, team=team.pk, start=flt.start, end=flt.end, step=step or NONE)
        assert metrics["counts"] == expected
    for clinician, metrics in service_metrics_by(flt, "clinician"):
        expected, _ = count_in_python(facts, team=team.pk, start=flt.start, end=flt.end, clinician=clinician or NONE)
        assert metrics["counts"] == expected


@pytest.mark.django_db
def test_targets_and_wait_limits_come_from_the_standards(population, team, settings):
    today, facts, _ = population
    flt = MetricFilter(team=team.pk)
    before = service_metrics(flt)
    settings.CLINICAL_STANDARDS = {"targets": {"recovery_rate": 0.0}, "waits": {"six_weeks_days": 10_000}}
    after = service_metrics(flt)
    assert after["targets"]["recovery_rate"] == 0.0 and after["met"]["recovery_rate"] is True
    assert after["counts"]["within_6_weeks"] == after["counts"]["waits_measured"] >= before["counts"]["within_6_weeks"]


@pytest.mark.django_db
def test_service_metrics_take_one_query(population, team, django_assert_num_queries):
    with django_assert_num_queries(1):
        service_metrics(MetricFilter(team=team.pk))
    with django_assert_num_queries(1):
        service_metrics_by(MetricFilter(team=team.pk), "clinician")


@pytest.mark.django_db
def test_an_empty_cohort_has_no_rates(team):
    metrics = service_metrics(MetricFilter(team=team.pk + 1))
    assert metrics["counts"]["finished"] == 0
    assert all(value is None for value in metrics["rates"].values())
    assert all(value is None for value in metrics["met"].values())


@pytest.mark.django_db
def test_the_one_query_overview_equals_the_separate_queries(population, team, django_assert_num_queries):
    today, _, _ = population
    flt = MetricFilter(team=team.pk, start=today - dt.timedelta(days=400), end=today)
    groups = ("month", "step", "clinician", "presenting_problem")
    with django_assert_num_queries(1):
        overview = service_metrics_overview(flt, groups)
    assert overview["total"] == service_metrics(flt)
    for group in groups:
        separate = [(NONE if key is None else key, m) for key, m in service_metrics_by(flt, group)]
        assert overview[group] == sorted(separate, key=lambda item: item[0]), group
