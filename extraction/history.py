"""The append-only, hash-chained history of a field's value."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from .models import Field, FieldRevision


class RevisionAction:
    EXTRACTED = "extracted"
    CONFIRMED = "confirmed"
    CORRECTED = "corrected"
    ENTERED = "entered"
    VERIFIED = "verified"


def revision_append(
    *, field: Field, value: str, actor, role: str, action: str, reason: str = ""
) -> FieldRevision:
    """Append a revision to the field's chain; the caller holds the transaction.

    The field row is locked so that two writers cannot both claim the same revision number.
    """
    with transaction.atomic():
        Field.objects.select_for_update().filter(pk=field.pk).first()
        last = field.revisions.order_by("-number").first()
        revision = FieldRevision(
            field=field,
            number=(last.number + 1) if last else 1,
            value=value,
            actor=actor,
            role=role,
            action=action,
            reason=reason,
            created_at=timezone.now(),
            previous_hash=last.hash if last else "",
        )
        revision.hash = revision.compute_hash()
        revision.save()
    return revision


def verify_chain(revisions) -> bool:
    """True when every revision's hash matches its content and links to the one before."""
    previous = ""
    for revision in revisions:
        if revision.previous_hash != previous or revision.compute_hash() != revision.hash:
            return False
        previous = revision.hash
    return True
