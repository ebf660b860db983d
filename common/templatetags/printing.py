"""Template helpers for printed pages (base.html's print header and footer)."""

from django import template
from django.utils.safestring import mark_safe

register = template.Library()

# Characters that could end a CSS string or the <style> element, or that HTML would read: escaped as
# CSS hex escapes ("\22 " for a double quote), so a name can never break out of the stylesheet.
UNSAFE_IN_CSS = set("\"'\\<>&")


@register.filter
def css_string(value):
    """``value`` as the inside of a double-quoted CSS string in a <style> element."""
    out = []
    for ch in str(value):
        out.append(f"\\{ord(ch):x} " if ch in UNSAFE_IN_CSS or ord(ch) < 0x20 or ord(ch) == 0x7F else ch)
    return mark_safe("".join(out))  # noqa: S308 - every character that could end the string is escaped  # nosec B308 B703
