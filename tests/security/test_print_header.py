"""The print header names who printed the page, inside a <style> element: a name cannot break out of it."""

import pytest
from django.urls import reverse

from common.templatetags.printing import css_string


def test_css_string_escapes_everything_that_could_end_the_string_or_the_element():
    assert css_string('Jo "Q" O\'Neil\\</style>') == "Jo \\22 Q\\22  O\\27 Neil\\5c \\3c /style\\3e "
    assert css_string("Zoë Ó") == "Zoë Ó"


@pytest.mark.django_db
def test_every_page_carries_the_print_header_with_the_users_name(client, pwp):
    pwp.first_name, pwp.last_name = 'Evil"</style><script>alert(1)</script>', "X"
    pwp.save()
    client.force_login(pwp)
    html = client.get(reverse("referrals:caseload")).content.decode()
    style = html[html.index('id="print-page-style"') : html.index("</style>")]
    assert "Printed by Evil\\22 \\3c /style\\3e \\3c script\\3e alert(1)\\3c /script\\3e  X on" in style
    assert "<script>alert(1)" not in html
    assert "OFFICIAL-SENSITIVE" in html and "print-banner" in html
