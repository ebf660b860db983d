"""``{% nav_items %}``: templates/components/nav_items.html, rendered once per kind of user and page.

The staff navigation is on every page and is the same for every user of the same role on the same
page: it reads only the rulebook's role-level answers (``{% may "action" %}`` without a record, which
depend on the role, the supervisor capacity, superuser status and having a team), whether the user has
a team, and the page's app and URL name. So it is rendered from the template the first time a kind of
user sees a page and kept (per process): a dozen ``{% url %}``s and six rulebook questions less per
request. tests/test_navigation.py holds the kept markup to the template for every persona and page.
"""

from django import template
from django.template.loader import get_template

from common import permissions

register = template.Library()

TEMPLATE = "components/nav_items.html"


def nav_key(user, request):
    """Everything components/nav_items.html reads of the user and the request."""
    match = getattr(request, "resolver_match", None)
    return (
        permissions.capacities(user),
        bool(getattr(user, "is_superuser", False)),
        getattr(user, "team_id", None) is not None,
        getattr(match, "app_name", None),
        getattr(match, "url_name", None),
    )


_KEPT = {}  # nav_key -> the rendered items; a few roles by a few hundred pages at most
_LIMIT = 4096


@register.simple_tag(takes_context=True)
def nav_items(context):
    user, request = context.get("user"), context.get("request")
    key = nav_key(user, request)
    html = _KEPT.get(key)
    if html is None:
        if len(_KEPT) >= _LIMIT:
            _KEPT.clear()
        html = _KEPT[key] = get_template(TEMPLATE).render({"user": user, "request": request})
    return html
