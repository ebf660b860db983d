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
    # Supervision (seed 003, DOMAIN.md §5); a team may override any of it in Team.review_parameters["supervision"].
    "supervision": {
        # Expected interval and length of each kind of supervision, and the largest group it may have.
        "kinds": {
            "case_management": {"frequency_days": 7, "minutes": 60, "max_supervisees": 1},
            "clinical_skills": {"frequency_days": 14, "minutes": 60, "max_supervisees": 12},
            "high_intensity": {"frequency_days": 7, "minutes": 60, "max_supervisees": 3},
            "professional": {"frequency_days": 28, "minutes": 60, "max_supervisees": 1},
        },
        # Which cases go on a case-management list, and in which order the reasons rank.
        "case_list": {
            "not_discussed_days": 28,
            "dnas_since_discussed": 1,
            "priority": [
                "risk",
                "deterioration",
                "not_improving",
                "proposed",
                "flag",
                "new_assessment",
                "dna",
                "not_discussed",
            ],
        },
        # What "supervision given as the guidance says" means, by the supervisee's role.
        "compliance": {
            "weeks": 8,
            "hi_case_review_days": 28,
            "hi_roles": ["hi_therapist", "hi_trainee"],
            "requirements": {
                "pwp": [
                    {"kind": "case_management", "every_days": 7, "min_minutes": 60},
                    {"kind": "clinical_skills", "every_days": 14, "min_minutes": 0},
                ],
                "pwp_trainee": [
                    {"kind": "case_management", "every_days": 7, "min_minutes": 60},
                    {"kind": "clinical_skills", "every_days": 14, "min_minutes": 0},
                ],
                "hi_therapist": [{"kind": "high_intensity", "every_days": 7, "min_minutes": 0}],
                "hi_trainee": [{"kind": "high_intensity", "every_days": 7, "min_minutes": 0}],
            },
        },
    },
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
