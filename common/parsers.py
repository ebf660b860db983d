"""DRF's JSON parser, refusing with a 400 what would otherwise fail further in as a 500: a body nested
deeper than ``MAX_JSON_DEPTH`` (a RecursionError in the parser or beyond) and text with lone surrogates
(valid JSON escapes such as "\\ud800" that no UTF-8 answer or database can hold, not even an error
message echoing them). Its own module: DRF imports it while loading its settings."""

import re

from rest_framework import parsers
from rest_framework.exceptions import ParseError

MAX_JSON_DEPTH = 32  # our deepest body is a supervision session with its decisions: depth 4
SURROGATE = re.compile("[\ud800-\udfff]")


def _problem(value):
    """Why a parsed JSON value cannot be used, or None (iteratively: the point is not to recurse)."""
    stack = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, str):
            if SURROGATE.search(node):
                return "text that is not valid Unicode (a lone surrogate such as \\ud800)"
            continue
        if isinstance(node, dict):
            children = [*node.keys(), *node.values()]
        elif isinstance(node, list):
            children = node
        else:
            continue
        if depth > MAX_JSON_DEPTH:
            return f"nested more than {MAX_JSON_DEPTH} levels deep"
        stack.extend((child, depth + 1) for child in children)
    return None


class JSONParser(parsers.JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:
            problem = f"nested more than {MAX_JSON_DEPTH} levels deep"
        else:
            problem = _problem(data)
            if problem is None:
                return data
        raise ParseError(f"JSON parse error - {problem}.")
