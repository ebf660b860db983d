"""The staff navigation kept per kind of user and page (``{% nav_items %}``, common/templatetags/
navigation.py) is what templates/components/nav_items.html renders for the user and page at hand:
for every role, with and without the supervisor capacity, superuser status and a team, on every named
page of the project, whoever of that kind saw the page first."""

import itertools
from types import SimpleNamespace

from django.template import engines
from django.urls import URLPattern, URLResolver, get_resolver

from common.templatetags import navigation
from stepped_care.models import Role, Staff

KEPT = engines["django"].from_string("{% load navigation %}{% nav_items %}")
INCLUDED = engines["django"].from_string('{% include "components/nav_items.html" %}')


def _pages(patterns=None, app_name=None):
    """(app_name, url_name) of every named page, as request.resolver_match gives them."""
    for p in get_resolver().url_patterns if patterns is None else patterns:
        if isinstance(p, URLResolver):
            yield from _pages(p.url_patterns, p.app_name or app_name)
        elif isinstance(p, URLPattern) and p.name:
            yield app_name or "", p.name


PAGES = sorted(set(_pages())) + [("", None)]  # and a page without a name (a 404)


def _user(n, role, supervisor, superuser, team):
    return Staff(
        pk=n,
        username=f"user{n}",
        first_name=f"Name{n}",
        role=role,
        is_supervisor=supervisor,
        is_superuser=superuser,
        team_id=(n % 3 + 1) if team else None,
    )


KINDS = list(itertools.product([value for value, _ in Role.choices], [False, True], [False, True], [False, True]))


def test_the_kept_navigation_is_the_template_for_every_kind_of_user_and_page():
    """Every kind sees every page first with one user, then with another of the same kind (other ids,
    names and team): each must get what the template gives them, so a kind the key confused with
    another would get that other's items."""
    assert len(PAGES) > 40  # the walk found the project's pages
    navigation._KEPT.clear()
    for app_name, url_name in PAGES:
        request = SimpleNamespace(resolver_match=SimpleNamespace(app_name=app_name, url_name=url_name))
        for kind in KINDS:
            KEPT.render({"user": _user(1, *kind), "request": request})
        for kind in KINDS:
            context = {"user": _user(2, *kind), "request": request}
            assert KEPT.render(context) == INCLUDED.render(context), (app_name, url_name, kind)


def test_kinds_of_users_are_kept_apart():
    """A clinician and a manager on the same page do not share the kept items (nor does a page)."""
    navigation._KEPT.clear()
    page = SimpleNamespace(resolver_match=SimpleNamespace(app_name="appointments", url_name="my_day"))
    other = SimpleNamespace(resolver_match=SimpleNamespace(app_name="referrals", url_name="caseload"))
    pwp, manager = _user(1, Role.PWP, False, False, True), _user(2, Role.MANAGER, False, False, True)
    shown = {
        (u.role, r.resolver_match.url_name): KEPT.render({"user": u, "request": r})
        for u in (pwp, manager)
        for r in (page, other)
    }
    assert len(navigation._KEPT) == 4
    assert shown[("pwp", "my_day")] != shown[("manager", "my_day")]  # the manager has no My day
    assert shown[("pwp", "my_day")] != shown[("pwp", "caseload")]  # which link is the current page
    assert 'aria-current="page" href="/appointments/today/"' in shown[("pwp", "my_day")]
