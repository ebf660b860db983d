"""Time renders as a server makes them, for every page bench alike (issue 18.9, 22.1)."""

import gc
from contextlib import contextmanager

from django.template.base import Template
from django.test.utils import _TestState


@contextmanager
def like_a_server():
    """Renders as a server makes them: Django's own ``Template._render`` instead of the test
    environment's instrumented one, and no collection of the test session's objects mid-render."""
    instrumented = Template._render
    saved = getattr(_TestState, "saved_data", None)
    gc.collect()
    gc.freeze()
    Template._render = getattr(saved, "template_render", instrumented)
    try:
        yield
    finally:
        Template._render = instrumented
        gc.unfreeze()
