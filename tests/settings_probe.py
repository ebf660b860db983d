"""Read the settings module as a fresh process loads it, under a chosen environment."""

import json
import os
import subprocess
import sys

from tests.paths import REPO


def loaded_settings(expression, *, env=None, drop=()):
    """The JSON value of ``expression`` (``s`` is ``config.settings``) in a new interpreter.

    The test run's environment is inherited except the names in ``drop``; ``env`` overrides it.
    """
    code = f"import json, config.settings as s; print(json.dumps({expression}, default=str))"
    base = {k: v for k, v in os.environ.items() if k not in drop}
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=REPO,
        env={**base, "SECRET_KEY": "s" * 60, **(env or {})},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return json.loads(result.stdout.strip().splitlines()[-1])
