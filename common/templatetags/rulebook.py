"""``{% may "action" record as name %}``: the rulebook's answer, to show or hide a button.

Showing is all it does: the service refuses the act itself whatever the page shows.
"""

from django import template

from common import permissions

register = template.Library()


@register.simple_tag(takes_context=True)
def may(context, action, record=None):
    user = context.get("user")
    if user is None and context.get("request") is not None:
        user = context["request"].user
    return permissions.may(user, action, record or None)  # a missing variable is "" in a template
