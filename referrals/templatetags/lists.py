"""Template helpers for the list pages (caseload, waiting list): markup built in one pass (issue 22)."""

from django import template

from referrals import tables

register = template.Library()


@register.simple_tag
def sort_th(label, link):
    """``{% sort_th "Patient" sort_links.patient %}``: what ``{% include "referrals/_sort_th.html" with
    label=... link=... %}`` renders (tests/referrals/test_row_fragments.py holds them equal)."""
    return tables.sort_th_html(label, link)
