"""Invariants of the paired outcome rules, over every possible pair of scores (hypothesis)."""

from hypothesis import given
from hypothesis import strategies as st

from outcomes.metrics import RELIABLE_DETERIORATION, paired_outcome
from outcomes.scoring import GAD7, PHQ9, score

phq = st.integers(0, 27)
gad = st.integers(0, 21)
contacts = st.integers(0, 30)


@given(phq, gad, phq, gad, contacts, st.booleans())
def test_outcome_invariants(pf, gf, pl, gl, tc, ended):
    out = paired_outcome(pf, gf, pl, gl, tc, ended)
    assert out.computable
    # reliable recovery implies recovery and reliable improvement
    if out.reliable_recovery:
        assert out.recovered and out.reliable_improvement
    # reliable improvement and reliable deterioration never both; exactly one of the three classes
    assert not (out.reliable_improvement and out.reliable_deterioration)
    assert [out.reliable_improvement, out.reliable_deterioration, out.no_reliable_change].count(True) == 1
    # recovery only defined at caseness
    assert (out.recovered is None) == (not out.caseness_at_start)
    assert (out.reliable_recovery is None) == (not out.caseness_at_start)
    assert out.caseness_at_start == (pf >= 10 or gf >= 8)
    assert out.finished_treatment == (ended and tc >= 2)


@given(phq, gad, phq, gad)
def test_mixed_change_policy_only_changes_the_mixed_case(pf, gf, pl, gl):
    default = paired_outcome(pf, gf, pl, gl, 5, True)
    strict = paired_outcome(pf, gf, pl, gl, 5, True, mixed_policy=RELIABLE_DETERIORATION)
    mixed = (pl - pf <= -6 or gl - gf <= -4) and (pl - pf >= 6 or gl - gf >= 4)
    if mixed:
        assert default.no_reliable_change and strict.reliable_deterioration
        assert not strict.reliable_improvement
    else:
        assert default == strict


@given(st.one_of(st.none(), phq), st.one_of(st.none(), gad), st.one_of(st.none(), phq), st.one_of(st.none(), gad))
def test_fewer_than_two_scores_are_not_assessed_never_guessed(pf, gf, pl, gl):
    """A pair is two scores of each measure: one score is never compared with itself."""
    out = paired_outcome(pf, gf, pl, gl, 3, True)
    if None in (pf, gf, pl, gl):
        assert not out.assessed and not out.computable
        assert out.reason.startswith(("no ", "only one "))
        assert out.recovered is None and out.reliable_improvement is None and out.caseness_at_start is None
        assert out.summary.startswith("Not assessed: ")
        assert out.finished_treatment  # whether the course finished does not depend on the scores
    else:
        assert out.assessed and out.anxiety_measure == GAD7


@given(st.lists(st.integers(0, 3), min_size=9, max_size=9))
def test_phq9_total_is_the_sum_and_risk_is_item_9(items):
    result = score(PHQ9, items)
    assert result.total == sum(items)
    assert result.risk == (items[8] > 0)


@given(st.lists(st.integers(0, 3), min_size=7, max_size=7))
def test_gad7_never_flags_risk(items):
    assert not score(GAD7, items).risk
