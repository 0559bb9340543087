"""How values are shown on screens: sensitive ones masked, revisions described."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.utils.html import format_html
from django.utils.safestring import SafeString


def masked(field, value: str) -> str:
    """The value as shown outside its owner's input: sensitive values keep only their tail."""
    if not value or not field.sensitive:
        return value
    try:
        from extraction.normalize import mask
    except ImportError:  # the normalizer ships separately; hide the whole value until it does
        return "\u2022" * 6
    return mask(field.kind, value)


def breakable_email(email: str) -> SafeString | str:
    """An e-mail address that may wrap before its "@" rather than in the middle of a word."""
    local, at, domain = (email or "").partition("@")
    if not at:
        return email or ""
    return format_html("{}<wbr>@{}", local, domain)


def error_text(error: Exception) -> str:
    """A service's error as one plain sentence (or several, joined)."""
    if isinstance(error, ValidationError):
        return " ".join(error.messages)
    return str(error) or "That did not work. Please try again."


# How each kind of value is typed: the keyboard a phone shows and an example of the format.
KIND_INPUT = {
    "money": ("decimal", "e.g. 1,234.56"),
    "integer": ("numeric", "e.g. 12"),
    "date": ("text", "MM/DD/YYYY"),
    "ssn": ("numeric", "XXX-XX-XXXX"),
    "account": ("numeric", ""),
}


def decorate_field(field, *, show_real_value: bool) -> None:
    """Attach what the templates show for a field: masked values, the not-found marker, the
    input's keyboard and example, and the normalized value when it reads differently."""
    field.inputmode, field.placeholder = KIND_INPUT.get(field.kind, ("text", ""))
    field.show_normalized = (
        show_real_value
        and bool(field.value)
        and bool(field.normalized)
        and field.normalized != field.value
        and field.kind in KIND_INPUT
    )
    if not hasattr(field, "absent"):
        field.absent = False
    field.display_value = field.value if show_real_value else masked(field, field.value)
    field.display_machine = masked(field, field.machine_value)
    field.not_found = bool(field.value) and not field.grounded
    field.box_style = box_style(field.box)
    if not hasattr(field, "error"):
        field.error = ""
    if not hasattr(field, "typed"):
        field.typed = None


def box_style(box) -> str:
    """CSS placing an evidence box over its page image; boxes are fractions of the page."""
    if not box or len(box) != 4:
        return ""
    x0, y0, x1, y1 = (float(v) for v in box)
    return (
        f"left:{x0 * 100:.3f}%;top:{y0 * 100:.3f}%;"
        f"width:{max(x1 - x0, 0) * 100:.3f}%;height:{max(y1 - y0, 0) * 100:.3f}%"
    )
