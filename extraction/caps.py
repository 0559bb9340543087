"""Spending caps: reading stops, with a plain reason, before paid calls pass a limit.

Per document and per application, on pages sent and on calls made to paid providers (the local
provider is free and never capped). A cached reading costs nothing and counts for nothing.
"""

from __future__ import annotations

from django.conf import settings
from django.db.models import F, Sum

from .models import Document, ExtractionRun
from .providers.base import Provider

LOCAL = "local"
SPENDING_CAP = (
    "spending_cap",
    "This {scope} reached the limit of {what} we read automatically ({limit}). Please type "
    "the values in beside the page; support can raise the limit.",
)


class Capped(Exception):
    """Reading would pass a cap; ``reason`` is the code and sentence for the document."""

    def __init__(self, reason: tuple[str, str]):
        super().__init__(reason[1])
        self.reason = reason


def cap_reason(
    *, document: Document, provider: Provider, planned_calls: int, planned_pages: int
) -> tuple[str, str] | None:
    """Why reading on would pass a spending cap, or None. Free (local) readings are uncapped."""
    if provider.name == LOCAL or planned_calls == 0:
        return None
    paid = (
        ExtractionRun.objects.filter(cached_from__isnull=True)
        .exclude(provider=LOCAL)
        .exclude(outcome=ExtractionRun.Outcome.CAPPED)
    )
    spent = paid.filter(document__application_id=document.application_id).aggregate(
        pages=Sum(F("page_last") - F("page_first") + 1)
    )
    checks = [
        ("document", "pages", document.page_count or planned_pages, "MAX_PAGES_PER_DOCUMENT"),
        (
            "document",
            "calls",
            paid.filter(document=document).count() + planned_calls,
            "MAX_CALLS_PER_DOCUMENT",
        ),
        (
            "application",
            "pages",
            (spent["pages"] or 0) + planned_pages,
            "MAX_PAGES_PER_APPLICATION",
        ),
        (
            "application",
            "calls",
            paid.filter(document__application_id=document.application_id).count() + planned_calls,
            "MAX_CALLS_PER_APPLICATION",
        ),
    ]
    for scope, what, amount, name in checks:
        limit = getattr(settings, f"EXTRACTION_{name}")
        if amount > limit:
            code, message = SPENDING_CAP
            noun = "pages" if what == "pages" else "reading requests"
            return code, message.format(scope=scope, what=noun, limit=f"{limit} {noun}")
    return None
