"""Where the shared reference material lies: ../shared beside the checkout (also in CI)."""

from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
OUTCOME_CASES = SHARED / "outcome_cases.csv"
