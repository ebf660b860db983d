"""Where test data lies: the outcome case tables are copied into the repository (tests/data), so a clone
with nothing beside it runs them; the contract clients live in ../shared beside the checkout (also in CI)."""

from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DATA = REPO / "tests" / "data"
SHARED = REPO.parent / "shared"
OUTCOME_CASES = DATA / "outcome_cases.csv"
ADSM_CASES = DATA / "outcome_cases_adsm.csv"
