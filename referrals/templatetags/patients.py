"""Template helpers for identifying patients (see templates/components/patient_name.html)."""

from django import template

from referrals.presenters import nhs_number_display

register = template.Library()


@register.filter
def nhs_number(value):
    """An NHS number in the 3-3-4 groups people read it in."""
    return nhs_number_display(value)
