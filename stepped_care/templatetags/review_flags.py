"""Template helpers for review flags: evidence in words, and the end codes a step-out needs."""

from django import template

from referrals.codes import EndCode
from stepped_care.review import evidence_lines as lines

register = template.Library()


@register.filter
def evidence_lines(flag):
    """(label, value) pairs of the flag's evidence: the scores and dates that raised it."""
    return lines(flag.rule, flag.evidence or {})


@register.simple_tag
def end_code_choices():
    return EndCode.choices
