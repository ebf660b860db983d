"""Lists of the API: filtering and paging.

django-filter, but a filter given a value it cannot use is a 400 naming the parameter, not silently ignored
(``?status=`` or ``?entered_in_error=maybe`` would otherwise list everything, and a client would never learn
that its filter was dropped). Likewise ``?page=`` is an invalid page (404), not quietly the first one.
"""

import re

from django_filters import BooleanFilter
from django_filters.rest_framework import DjangoFilterBackend
from django_filters.widgets import SuffixedMultiWidget
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.pagination import PageNumberPagination

BOOLEAN_VALUES = {"true", "false", "1", "0"}


def _parameters(name, filter_):
    """The query parameter(s) a filter reads: range filters read ``<name>_after``/``_before`` and so on."""
    widget = filter_.field.widget
    if isinstance(widget, SuffixedMultiWidget):
        return [widget.suffixed(name, suffix) for suffix in widget.suffixes]
    return [name]


class StrictFilterBackend(DjangoFilterBackend):
    def get_filterset(self, request, queryset, view):
        filterset = super().get_filterset(request, queryset, view)
        if filterset is None:
            return None
        errors = {}
        for name, filter_ in filterset.filters.items():
            for parameter in _parameters(name, filter_):
                values = request.query_params.getlist(parameter)
                if any(not value.strip() for value in values):
                    errors[parameter] = ["Give a value, or leave the parameter out."]
                elif isinstance(filter_, BooleanFilter) and any(v.lower() not in BOOLEAN_VALUES for v in values):
                    errors[parameter] = ["Use true or false."]
        if errors:
            raise ValidationError(errors)
        return filterset


class Pagination(PageNumberPagination):
    """Pages of 50 by default; ``page_size`` up to 200 for clients that fetch a whole caseload. A page size
    that is not a whole number above 0 is a 400, not silently the default."""

    page_size_query_param = "page_size"
    max_page_size = 200

    def get_page_number(self, request, paginator):
        if self.page_query_param in request.query_params and not request.query_params[self.page_query_param].strip():
            raise NotFound(self.invalid_page_message.format(page_number="", message="no page number given"))
        return super().get_page_number(request, paginator)

    def get_page_size(self, request):
        value = request.query_params.get(self.page_size_query_param)
        if value is not None and not (re.fullmatch(r"[0-9]+", value.strip()) and int(value) > 0):
            raise ValidationError({self.page_size_query_param: ["Give a whole number of rows per page, above 0."]})
        return super().get_page_size(request)
