"""NHS number validation (Modulus 11 check digit), pure.

Digits are '0' to '9' only: superscripts ('²') and other scripts' digits pass ``str.isdigit`` but are
not an NHS number (they failed further in, as a server error), so they are refused with a message.
"""

from django.core.exceptions import ValidationError

from common.plausibility import digits_only


def normalise_nhs_number(value: str) -> str:
    """Spaces and hyphens dropped (people type 943 476 5919 or 943-476-5919); nothing else changed."""
    return "".join(ch for ch in str(value) if not ch.isspace() and ch != "-")


def nhs_number_is_valid(value: str) -> bool:
    """True when ``value`` is ten digits whose last is the Modulus 11 check digit of the first nine."""
    digits = normalise_nhs_number(value)
    if len(digits) != 10 or not digits_only(digits):
        return False
    total = sum(int(d) * w for d, w in zip(digits[:9], range(10, 1, -1), strict=True))
    check = 11 - total % 11
    if check == 11:
        check = 0
    if check == 10:
        return False
    return check == int(digits[9])


def validate_nhs_number(value):
    digits = normalise_nhs_number(value)
    if digits and not digits_only(digits):
        raise ValidationError(
            "An NHS number has only the digits 0 to 9 (spaces and hyphens may separate them).",
            code="nhs_number_characters",
        )
    if len(digits) != 10:
        raise ValidationError("An NHS number has exactly 10 digits.", code="nhs_number_length")
    if not nhs_number_is_valid(digits):
        raise ValidationError(
            "This is not a valid NHS number: the check digit does not match.", code="nhs_number_check_digit"
        )
