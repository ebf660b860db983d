"""DRF's JSON parser, but a body nested deeper than ``MAX_JSON_DEPTH`` is a 400 naming the limit, not a
RecursionError (a 500) in the parser or anywhere further in. (Its own module: DRF imports it while
loading its settings.)"""

from rest_framework import parsers
from rest_framework.exceptions import ParseError

MAX_JSON_DEPTH = 32  # our deepest body is a supervision session with its decisions: depth 4


def _depth(value):
    """How deep a parsed JSON value nests (iteratively: the point is not to recurse without bound)."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict):
            children = node.values()
        elif isinstance(node, list):
            children = node
        else:
            continue
        deepest = max(deepest, depth)
        if deepest > MAX_JSON_DEPTH:
            return deepest
        stack.extend((child, depth + 1) for child in children)
    return deepest


class JSONParser(parsers.JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:
            data = None
        else:
            if _depth(data) <= MAX_JSON_DEPTH:
                return data
        raise ParseError(f"JSON parse error - nested more than {MAX_JSON_DEPTH} levels deep.")
