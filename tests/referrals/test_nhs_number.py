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
        ("94347659A9", "nhs_number_characters"),
        # Superscripts and other scripts' digits pass str.isdigit(); they are not an NHS number.
        ("943476591\u2079", "nhs_number_characters"),  # superscript nine
        ("\u00b2\u00b3" * 5, "nhs_number_characters"),  # superscript two and three
        ("\uff19\uff14\uff13\uff14\uff17\uff16\uff15\uff19\uff11\uff19", "nhs_number_characters"),  # full width
        ("\u0669\u0664\u0663\u0664\u0667\u0666\u0665\u0669\u0661\u0669", "nhs_number_characters"),  # Arabic-Indic
        ("943\u2013476\u20135919", "nhs_number_characters"),  # en dashes, not hyphens
    ],
)
def test_invalid_nhs_numbers(number, code):
    assert not nhs_number_is_valid(number)
    with pytest.raises(ValidationError) as err:
        validate_nhs_number(number)
    assert err.value.code == code
