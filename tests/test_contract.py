"""The black-box contract client (../shared/contract/check_outcomes.py) against a live server:
every outcome case built through the public API must match."""

import subprocess
import sys

import pytest

from tests.paths import ADSM_CASES, CONTRACT, OUTCOME_CASES

# The contract clients live beside the checkout (../shared), not in it: a lone clone skips them, CI runs them.
pytestmark = pytest.mark.skipif(
    not (CONTRACT / "check_outcomes.py").exists(), reason="no ../shared/contract beside the checkout"
)


@pytest.mark.django_db(transaction=True)
def test_contract_client_matches_every_outcome_case(live_server, pwp, password):
    result = subprocess.run(
        [
            sys.executable,
            str(CONTRACT / "check_outcomes.py"),
            live_server.url,
            pwp.username,
            password,
            str(OUTCOME_CASES),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert result.stdout.strip().splitlines()[-1] == "26/26 outcome cases match"


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(not (CONTRACT / "check_adsm_outcomes.py").exists(), reason="no ADSM contract client in ../shared")
def test_adsm_contract_client_matches_every_case(live_server, pwp, password):
    """Presenting problems, questionnaires by measure code, step dates and the outcome's anxiety measure,
    through the public API only (../shared/contract/check_adsm_outcomes.py)."""
    result = subprocess.run(
        [
            sys.executable,
            str(CONTRACT / "check_adsm_outcomes.py"),
            live_server.url,
            pwp.username,
            password,
            str(ADSM_CASES),
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert result.stdout.strip().splitlines()[-1] == "45/45 ADSM outcome cases match"
