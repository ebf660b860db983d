"""Plausibility rules: bounds no real record goes beyond, in one place for the services (and so the web
forms and the API alike). Pure: no database, no clock (``today`` is passed in).

Each rule returns a message for a person, or None; the caller files it under the field it checked.

| field(s)                                        | bound                                              |
| ----------------------------------------------- | -------------------------------------------------- |
| Referral.received_on                            | not before EARLIEST_REFERRAL (2000), not in future |
| Patient.date_of_birth                           | 0 to MAX_AGE_YEARS (120) years before today        |
| Patient.given_name, family_name                 | NAME_MAX characters, some visible, one line        |
| Patient.phone, postcode, gp_practice            | their column's size, one line                      |
| Patient.address                                 | ADDRESS_MAX characters                             |
| Patient.long_term_conditions                    | at most MAX_LONG_TERM_CONDITIONS, no repeats       |
| CareContact.notes, homework, risk_note          | NOTE_MAX characters                                |
| reasons and short notes (corrections, discharge)| REASON_MAX characters                              |

Every text refuses control characters (terminal escape codes, NUL; line breaks and tabs are allowed
in multi-line text), direction overrides that disguise text, and unpaired surrogates (which the
database cannot store).
"""

import datetime as dt
import unicodedata

EARLIEST_REFERRAL = dt.date(2000, 1, 1)  # before the service's records began: a mistyped year (1900, 0001)
MAX_AGE_YEARS = 120
NAME_MAX = 100  # the columns' size
ADDRESS_MAX = 500
NOTE_MAX = 20_000  # about ten pages of typed notes for one session
REASON_MAX = 2_000
MAX_LONG_TERM_CONDITIONS = 12  # the number of condition codes (referrals.codes.LongTermCondition)

LINE_BREAKS = {"\n", "\r", "\t"}
ZERO_WIDTH_JOINERS = {"\u200c", "\u200d"}  # needed to spell some names (Persian, Indic scripts)
DIRECTION_OVERRIDES = set("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def digits_only(text):
    """True for '0'–'9' only: ``str.isdigit`` is also true for '²' and other scripts' digits."""
    return bool(text) and text.isascii() and text.isdigit()


def _years_before(today, years):
    try:
        return today.replace(year=today.year - years)
    except ValueError:  # 29 February
        return today.replace(year=today.year - years, day=28)


def date_of_birth_problem(born, today):
    if born is None:
        return None
    if born > today:
        return "A date of birth cannot be in the future."
    if born < _years_before(today, MAX_AGE_YEARS):
        return f"Check the year: this date of birth makes the patient older than {MAX_AGE_YEARS}."
    return None


def referral_received_problem(received, today):
    if received is None:
        return None
    if received > today:
        return "A referral cannot be received in the future."
    if received < EARLIEST_REFERRAL:
        return f"Check the year: a referral cannot be received before {EARLIEST_REFERRAL.year}."
    return None


def text_problem(value, *, max_length, multiline=False):
    """Length and characters of free text; None when it is fine (empty text is fine here)."""
    if not value:
        return None
    if not isinstance(value, str):
        return "Give text."
    if len(value) > max_length:
        return f"Keep this to {max_length:,} characters (it has {len(value):,})."
    for char in value:
        category = unicodedata.category(char)
        if category == "Cc" and not (multiline and char in LINE_BREAKS):
            return "Remove the control characters (such as line breaks or terminal escape codes) from this text."
        if category == "Cs":
            return "This text has characters that are not text (broken encoding); type it again."
        if char in DIRECTION_OVERRIDES:
            return "Remove the hidden text-direction characters from this text."
    return None


def _visible(char):
    return not (char.isspace() or unicodedata.category(char) in ("Cc", "Cf", "Cs", "Zs", "Zl", "Zp", "Mn", "Me"))


def name_problem(value, *, max_length=NAME_MAX):
    """A person's name: one line, some visible letters, no hidden formatting."""
    problem = text_problem(value, max_length=max_length)
    if problem or not value:
        return problem
    if not any(_visible(char) for char in value):
        return "This name has no visible characters."
    hidden = [c for c in value if unicodedata.category(c) == "Cf" and c not in ZERO_WIDTH_JOINERS]
    if hidden:
        return "Remove the invisible characters (such as zero-width spaces) from this name."
    return None


def list_problem(items, *, max_items):
    if items is None:
        return None
    if len(items) > max_items:
        return f"Give at most {max_items} (there are {len(items):,})."
    if len(set(map(str, items))) != len(items):
        return "Give each one once."
    return None
