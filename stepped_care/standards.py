"""National targets and service policies, in one place.

Defaults follow ../shared/DOMAIN.md (NHS Talking Therapies). A service overrides any of them with
``settings.CLINICAL_STANDARDS`` (a dict of the same shape); nothing else in the code holds these numbers.
"""

from copy import deepcopy

from django.conf import settings

DEFAULTS = {
    "targets": {
        "recovery_rate": 0.50,
        "reliable_improvement_rate": 0.67,
        "reliable_recovery_rate": 0.48,
        "wait_6_weeks_share": 0.75,
        "wait_18_weeks_share": 0.95,
    },
    "waits": {"six_weeks_days": 42, "eighteen_weeks_days": 126, "hidden_wait_days": 90},
    # How a referral with one measure reliably better and the other reliably worse is classed:
    # "no_reliable_change" (default, DOMAIN.md §3) or "reliable_deterioration".
    "mixed_reliable_change": "no_reliable_change",
    "finished_treatment_min_contacts": 2,
}


def _merge(base, override):
    out = deepcopy(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


def standards():
    """The defaults with this deployment's overrides applied."""
    return _merge(DEFAULTS, getattr(settings, "CLINICAL_STANDARDS", {}) or {})
