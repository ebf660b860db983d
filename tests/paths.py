"""Reference data the tests read: kept in the repository, so a clone with nothing beside it passes.

tests/data holds copies of the worked outcome cases from the shared reference; the contract clients
(black-box checks of the API) still live in ../shared and their tests skip when it is absent.
"""

from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DATA = REPO / "tests" / "data"
OUTCOME_CASES = DATA / "outcome_cases.csv"
ADSM_CASES = DATA / "outcome_cases_adsm.csv"
SHARED = REPO.parent / "shared"
CONTRACT = SHARED / "contract"
