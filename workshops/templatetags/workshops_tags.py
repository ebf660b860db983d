"""Template helpers of group workshops, and the "groups" panel other pages may include."""

from django import template
from django.db.models import Count, Q
from django.urls import NoReverseMatch, reverse

from referrals.codes import ATTENDED_CODES

register = template.Library()


@register.filter
def pct(value):
    """A share as a whole percentage; "–" when there is nothing to divide by."""
    return "–" if value is None else f"{round(value * 100)}%"


@register.filter
def invalid(bound_field):
    """Render a field's widget marked invalid (for assistive technology too) when it has errors."""
    if not bound_field.errors:
        return bound_field
    css = bound_field.field.widget.attrs.get("class", "")
    return bound_field.as_widget(
        attrs={
            "class": f"{css} is-invalid".strip(),
            "aria-invalid": "true",
            "aria-describedby": f"{bound_field.auto_id}-error",
        }
    )


@register.simple_tag
def referral_url(referral_id):
    """The referral page, once the referrals app provides one ("" until then)."""
    try:
        return reverse("referrals:detail", args=[referral_id])
    except NoReverseMatch:
        return ""


@register.inclusion_tag("workshops/referral_groups.html")
def referral_groups(referral):
    """A referral's group courses and attendance, for the referral page: {% referral_groups referral %}.

    The caller has already checked the user may see the referral. Two queries."""
    valid = Q(entries__entered_in_error=False, entries__contact__entered_in_error=False)
    enrolments = list(
        referral.enrolments.select_related("course")
        .annotate(
            attended=Count("entries", filter=valid & Q(entries__contact__attendance__in=ATTENDED_CODES)),
            recorded=Count("entries", filter=valid),
        )
        .order_by("-enrolled_on", "-pk")
    )
    return {"referral": referral, "enrolments": enrolments}
