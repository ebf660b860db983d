"""The black-box contract client (../shared/contract/check_outcomes.py) against a live server:
every outcome case built through the public API must match."""

import subprocess
import sys

import pytest

from tests.paths import OUTCOME_CASES, SHARED


@pytest.mark.django_db(transaction=True)
def test_contract_client_matches_every_outcome_case(live_server, pwp, password):
    result = subprocess.run(
        [
            sys.executable,
            str(SHARED / "contract" / "check_outcomes.py"),
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
