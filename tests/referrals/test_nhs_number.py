import pytest
from django.core.exceptions import ValidationError

from referrals.validators import nhs_number_is_valid, validate_nhs_number


@pytest.mark.parametrize("number", ["9434765919", "943 476 5919", "4010232137"])
def test_valid_nhs_numbers(number):
    assert nhs_number_is_valid(number)
    validate_nhs_number(number)


@pytest.mark.parametrize(
    ("number", "code"),
    [
        ("9434765918", "nhs_number_check_digit"),  # wrong check digit
        ("1234567890", "nhs_number_check_digit"),  # check digit would be 10: never valid
        ("943476591", "nhs_number_length"),
        ("94347659190", "nhs_number_length"),
        ("94347659A9", "nhs_number_length"),
    ],
)
def test_invalid_nhs_numbers(number, code):
    assert not nhs_number_is_valid(number)
    with pytest.raises(ValidationError) as err:
        validate_nhs_number(number)
    assert err.value.code == code
