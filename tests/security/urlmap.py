"""Every URL pattern of the project, found by walking the resolver, so that no page escapes the checks.

``endpoints()`` yields one Endpoint per leaf pattern (HTML pages, API router routes with their format
suffix variants, admin): its qualified name, readable route, parameters and the HTTP methods its view
declares. ``Endpoint.build(values)`` turns parameter values into a path that resolves back to it.
"""

from dataclasses import dataclass, field

from django.urls import URLPattern, URLResolver, get_resolver, resolve
from django.utils.regex_helper import normalize

READ_METHODS = ("GET",)
WRITE_METHODS = ("POST", "PUT", "PATCH", "DELETE")


@dataclass(frozen=True)
class Endpoint:
    name: str
    route: str
    regex: str
    callback: object = field(compare=False, repr=False)
    converters: dict = field(compare=False, repr=False)

    @property
    def id(self):
        return f"{self.name or '(unnamed)'} {self.route}"

    @property
    def is_api(self):
        return self.route.startswith("api/")

    @property
    def is_admin(self):
        return self.name.startswith("admin:") or self.route.startswith("admin/")

    @property
    def params(self):
        possibilities = normalize(self.regex)
        return sorted(possibilities[0][1]) if possibilities else []

    @property
    def view_class(self):
        return getattr(self.callback, "cls", None) or getattr(self.callback, "view_class", None)

    @property
    def model(self):
        """The model a DRF viewset or a generic class-based view serves, when it says so."""
        cls = self.view_class
        if cls is None:
            return None
        queryset = getattr(cls, "queryset", None)
        if queryset is not None:
            return queryset.model
        model = getattr(cls, "model", None)
        if model is not None:
            return model
        serializer = getattr(cls, "serializer_class", None)
        meta = getattr(serializer, "Meta", None)
        return getattr(meta, "model", None)

    def methods(self):
        """The methods to try: what a class-based view declares, GET and POST for function views."""
        actions = getattr(self.callback, "actions", None)
        if actions:  # DRF viewset route
            declared = {m.upper() for m in actions}
        elif self.view_class is not None:
            cls = self.view_class
            declared = {m.upper() for m in cls.http_method_names if m not in ("options", "head") and hasattr(cls, m)}
        else:
            declared = {"GET", "POST"}
        return [m for m in ("GET", *WRITE_METHODS) if m in declared]

    def build(self, values):
        """The path for these parameter values (model instances give their pk); checked by resolving it."""
        for template, names in normalize(self.regex):
            if set(names) != set(values):
                continue
            text = {}
            for name in names:
                value = values[name]
                value = getattr(value, "pk", value)
                converter = self.converters.get(name)
                text[name] = converter.to_url(value) if converter is not None else str(value)
            path = "/" + template % text
            match = resolve(path)
            if match.func is not self.callback:
                raise AssertionError(f"{path} resolves to {match.view_name}, not to {self.id}")
            return path
        raise AssertionError(f"cannot build {self.id} from parameters {sorted(values)}")


def _walk(patterns, regex="", route="", namespace="", converters=None):
    converters = converters or {}
    for entry in patterns:
        piece = entry.pattern.regex.pattern
        piece = piece[1:] if piece.startswith("^") else piece
        here_converters = {**converters, **getattr(entry.pattern, "converters", {})}
        if isinstance(entry, URLResolver):
            ns = namespace
            if entry.namespace:
                ns = f"{namespace}:{entry.namespace}" if namespace else entry.namespace
            yield from _walk(entry.url_patterns, regex + piece, route + str(entry.pattern), ns, here_converters)
        elif isinstance(entry, URLPattern):
            name = entry.name or ""
            if name and namespace:
                name = f"{namespace}:{name}"
            yield Endpoint(
                name=name,
                route=route + str(entry.pattern),
                regex=regex + piece,
                callback=entry.callback,
                converters=here_converters,
            )


def endpoints():
    """Every leaf URL pattern, in resolver order, without duplicates."""
    seen, found = set(), []
    for endpoint in _walk(get_resolver().url_patterns):
        if endpoint.regex not in seen:
            seen.add(endpoint.regex)
            found.append(endpoint)
    return found
