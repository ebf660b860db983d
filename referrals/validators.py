"""NHS number validation (Modulus 11 check digit), pure."""

from django.core.exceptions import ValidationError


def normalise_nhs_number(value: str) -> str:
    return "".join(ch for ch in str(value) if not ch.isspace() and ch != "-")


def nhs_number_is_valid(value: str) -> bool:
    """True when ``value`` is ten digits whose last is the Modulus 11 check digit of the first nine."""
    digits = normalise_nhs_number(value)
    if len(digits) != 10 or not digits.isdigit():
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
    if len(digits) != 10 or not digits.isdigit():
        raise ValidationError("An NHS number has exactly 10 digits.", code="nhs_number_length")
    if not nhs_number_is_valid(digits):
        raise ValidationError(
            "This is not a valid NHS number: the check digit does not match.", code="nhs_number_check_digit"
        )
