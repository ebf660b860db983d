"""The measures table as data (outcomes/data/measures.csv) and the rules that read it: every measure's
ranges, sums and means, the published missing-item rules, comparison signs, and which presenting
problem calls for which measure (DOMAIN.md §2, §9)."""

import csv
import datetime as dt
from decimal import Decimal

import pytest

from outcomes.problems import CODES, ICD10, UNSPECIFIED, ProblemRecord, deciding, descriptor, measure_words, normalise
from outcomes.scoring import ADSMS, INSTRUMENTS, MEAN, ScoringError, adsm_for, load_instruments, score
from tests.paths import REPO, SHARED

PACKAGED = REPO / "outcomes" / "data" / "measures.csv"
ROWS = list(csv.DictReader(PACKAGED.open()))


def test_the_packaged_table_is_the_documented_one():
    assert PACKAGED.read_text() == (REPO / "docs" / "reference" / "measures.csv").read_text()


@pytest.mark.skipif(not (SHARED / "reference" / "measures.csv").exists(), reason="no ../shared beside the checkout")
def test_the_packaged_table_is_the_shared_reference():
    assert PACKAGED.read_text() == (SHARED / "reference" / "measures.csv").read_text()


@pytest.mark.parametrize("row", ROWS, ids=[r["code"] for r in ROWS])
def test_every_measure_is_read_from_the_table(row):
    inst = INSTRUMENTS[row["code"]]
    assert inst.title == row["name"] and inst.snomed_ct == row["snomed_ct"] and inst.scoring == row["scoring"]
    assert inst.item_count == int(row["items"] or 0)
    assert Decimal(str(inst.total_min)) == Decimal(row["total_min"])
    assert Decimal(str(inst.total_max)) == Decimal(row["total_max"])
    for kind in ("caseness", "reliable_change"):
        threshold = getattr(inst, f"{kind}_threshold")
        if row[kind]:
            assert (Decimal(str(threshold.value)), threshold.op) == (Decimal(row[kind]), row[f"{kind}_op"])
        else:
            assert threshold is None
    if inst.has_items:
        low, high = int(row["item_min"]), int(row["item_max"])
        assert len(inst.answers) >= 2 and inst.answers[0][0] == low and inst.answers[-1][0] == high
        lowest, highest = score(inst.code, [low] * inst.item_count), score(inst.code, [high] * inst.item_count)
        if inst.reverse_items:  # PSWQ: the reversed items score the other way
            assert lowest.total == low * (inst.item_count - len(inst.reverse_items)) + high * len(inst.reverse_items)
        else:
            assert (lowest.total, highest.total) == (inst.total_min, inst.total_max)
        with pytest.raises(ScoringError, match=f"item 1 must be between {low} and {high}"):
            score(inst.code, [high + 1] + [low] * (inst.item_count - 1))
    else:  # BIQ, IBS-SSS: the table gives a score range, not items
        assert score(inst.code, total=inst.total_max).total == inst.total_max
        with pytest.raises(ScoringError, match="between"):
            score(inst.code, total=inst.total_max + 1)


def test_the_disorder_specific_measures_are_those_with_a_problem_and_published_thresholds():
    assert set(ADSMS) == {"SPIN", "PDSS", "PCL5", "OCI", "HAI", "MI_ALONE"}
    assert not INSTRUMENTS["IBS_SSS"].decides_outcomes and not INSTRUMENTS["BIQ"].decides_outcomes


@pytest.mark.parametrize(
    ("code", "measure"),
    [("F40.0", "MI_ALONE"), ("F40.1", "SPIN"), ("F41.0", "PDSS"), ("F43.1", "PCL5"), ("F45.2", "HAI")]
    + [(f"F42.{n}", "OCI") for n in (0, 1, 2, 8, 9)]
    + [(c, None) for c in ("F32.1", "F33.0", "F40.2", "F40.8", "F41.1", "F41.2", "F41.9", "F43.0", "F43.2")],
)
def test_which_measure_a_presenting_problem_calls_for(code, measure):
    assert adsm_for(code) == measure


def test_every_listed_code_has_a_problem_descriptor_and_every_descriptor_an_unspecified_code():
    assert len(CODES) == 35
    assert {descriptor(code) for code in CODES} | {"other"} == set(UNSPECIFIED)
    for problem, code in UNSPECIFIED.items():
        assert code == "" if problem == "other" else ICD10[code][1] == problem


@pytest.mark.parametrize(("given", "read"), [("F401", "F40.1"), (" f40.1 ", "F40.1"), ("F40.1", "F40.1"), (7, "")])
def test_codes_are_read_with_or_without_the_dot(given, read):
    assert normalise(given) == read


DAY = dt.date(2026, 1, 5)


@pytest.mark.parametrize(
    ("records", "decides"),
    [
        ([("F41.1", "primary", 0), ("F42.1", "primary", 28)], "F42.1"),  # refined later: the latest primary
        ([("F41.1", "primary", 0), ("F40.1", "secondary", 28)], "F41.1"),  # a later secondary does not replace it
        ([("F40.1", "secondary", 0), ("F43.1", "secondary", 7)], "F43.1"),  # no primary: the latest secondary
        ([("F32.9", "primary", 0), ("F41.1", "primary", 0)], "F41.1"),  # the same day: the one entered later
        ([], None),
    ],
)
def test_the_deciding_presenting_problem(records, decides):
    chosen = deciding(
        ProblemRecord(code, sig, DAY + dt.timedelta(days=d), n) for n, (code, sig, d) in enumerate(records)
    )
    assert (chosen.code if chosen else None) == decides


def test_the_measure_is_explained_in_words():
    assert measure_words(ProblemRecord("F40.1", "primary", DAY)) == "SPIN, for social phobia F40.1"
    assert measure_words(ProblemRecord("F33.0", "primary", DAY)) == "GAD-7, for depression F33.0"
    assert measure_words(None) == "GAD-7 (no presenting problem recorded)"


# The published missing-item rules and the Mobility Inventory's mean (written d.dd).
@pytest.mark.parametrize(
    ("measure", "answers", "total"),
    [
        ("MI_ALONE", [3] * 27, Decimal("3")),
        ("MI_ALONE", [2] * 26 + [3], Decimal("2.04")),  # 55/27 = 2.037 → 2.04
        ("MI_ALONE", [3] * 22 + [None] * 5, Decimal("3")),  # five skipped: the mean of the rest
        ("MI_ALONE", [1] * 11 + [2] * 11 + [None] * 5, Decimal("1.5")),
        ("MI_ALONE", [3] * 20, Decimal("3")),  # a short list: the rest skipped (7 is too many, below)
        ("OCI", [2] * 41 + [None], 84),  # one missing: 82 + 82/41
        ("OCI", [1] * 20 + [2] * 20 + [None, None], 63),  # 60 + 2 × 1.5 = 63
        ("OCI", [0] * 42, 0),
        ("PSWQ", [1] * 16, 16 + 4 * 5),  # items 1, 3, 8, 10, 11 reversed: 11 × 1 + 5 × 5 = 36
    ],
)
def test_sums_means_and_missing_items(measure, answers, total):
    if len(answers) < INSTRUMENTS[measure].item_count - INSTRUMENTS[measure].max_missing:
        with pytest.raises(ScoringError, match="skipped"):
            score(measure, answers)
        return
    result = score(measure, answers)
    assert result.total == total
    assert result.items == tuple(answers) + (None,) * (INSTRUMENTS[measure].item_count - len(answers))


@pytest.mark.parametrize(
    ("measure", "answers", "fragment"),
    [
        ("MI_ALONE", [3] * 21 + [None] * 6, "has 6 items skipped (items 22, 23, 24, 25, 26, 27); at most 5"),
        ("OCI", [2] * 39 + [None] * 3, "has 3 items missing"),
        ("SPIN", [2] * 16 + [None], "SPIN item 17 is missing"),
        ("HAI", [1] * 18 + [1], "HAI has 18 items; 19 answers"),
        ("PDSS", [0, 0, 0, 0, 0, 0, 2.5], "item 7 must be a whole number"),
        ("PCL5", "0" * 20, "needs a list of 20 answers"),
        ("BIQ", [1, 2, 3], "recorded as a score"),
        ("NOPE", [1], "Unknown questionnaire"),
    ],
)
def test_what_cannot_be_scored_is_refused_naming_the_item(measure, answers, fragment):
    with pytest.raises(ScoringError, match=fragment.replace("(", r"\(").replace(")", r"\)")):
        score(measure, answers)


@pytest.mark.parametrize(
    ("measure", "first", "last", "change"),
    [
        ("PDSS", 14, 9, 0),  # a fall of 5 is not above 5
        ("PDSS", 14, 8, -1),
        ("PDSS", 8, 14, 1),
        ("PCL5", 40, 30, -1),  # a fall of exactly 10 is reliable
        ("MI_ALONE", Decimal("3.00"), Decimal("2.27"), -1),  # 0.73
        ("MI_ALONE", Decimal("3.00"), Decimal("2.28"), 0),
        ("SPIN", 30, 40, 1),
        ("OCI", 90, 59, 0),
    ],
)
def test_reliable_change_follows_each_measures_sign(measure, first, last, change):
    assert INSTRUMENTS[measure].change(first, last) == change


@pytest.mark.parametrize(
    ("measure", "value", "case"),
    [("MI_ALONE", Decimal("2.30"), False), ("MI_ALONE", Decimal("2.31"), True), ("PCL5", 32, True), ("PCL5", 31, False)]
    + [("SPIN", 19, True), ("SPIN", 18, False), ("HAI", 18, True), ("OCI", 39, False), ("PDSS", 8, True)],
)
def test_caseness_follows_each_measures_sign(measure, value, case):
    assert INSTRUMENTS[measure].is_case(value) is case


def test_a_changed_table_changes_the_rules():
    """Measures are data: a service's table with another cut-off scores with it, code unchanged."""
    text = PACKAGED.read_text().replace(
        "SPIN,Social Phobia Inventory,445552006,17,0,4,sum,0,68,19,>=",
        "SPIN,Social Phobia Inventory,445552006,17,0,4,sum,0,68,21,>",
    )
    spin = load_instruments(text)["SPIN"]
    assert (spin.caseness, spin.caseness_threshold.op) == (21, ">") and not spin.is_case(21)


def test_mean_scored_measures_are_exactly_the_mobility_inventory():
    assert {c for c, inst in INSTRUMENTS.items() if inst.scoring == MEAN} == {"MI_ALONE", "MI_ACCOMPANIED"}
