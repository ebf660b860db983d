"""The security linter (bandit) finds nothing of medium or high severity in our apps; `make lint`
runs the same check in CI. Findings are fixed, or marked ``# nosec`` with the reason beside it."""

import shutil
import subprocess
import sys

from tests.paths import REPO

# Every package of ours at the top level (apps, the project package, shared plumbing), not the tests.
APPS = sorted(p.parent.name for p in REPO.glob("*/__init__.py") if p.parent.name != "tests")


def test_bandit_reports_no_medium_or_high_findings():
    bandit = shutil.which("bandit", path=str(REPO / ".venv" / "bin")) or shutil.which("bandit")
    command = [bandit] if bandit else [sys.executable, "-m", "bandit"]
    result = subprocess.run(
        [*command, "-q", "-r", *APPS, "-ll", "-f", "txt"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert {"config", "common", "stepped_care", "referrals", "outcomes", "supervision", "dashboard"} <= set(APPS)
    assert result.returncode == 0, result.stdout + result.stderr
