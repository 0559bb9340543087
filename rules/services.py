"""Turning check findings into flags, and people's decisions on flags."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from extraction.models import Field

from .checks import CHECKS, Finding
from .models import Flag


def _findings(application) -> list[Finding]:
    documents = list(application.documents.select_related("document_type"))
    fields = list(
        Field.objects.filter(document__application=application).select_related("document")
    )
    findings = []
    for check in CHECKS:
        findings.extend(check(documents, fields, application))
    return findings


def flags_refresh(*, application) -> list[Flag]:
    """Raise flags for findings that hold now; resolve open flags whose finding is gone.

    Idempotent. A waived flag stays waived while its finding holds; a flag resolved by the
    system opens again if its finding comes back.
    """
    from review.models import Application

    with transaction.atomic():
        application = Application.objects.select_for_update().get(pk=application.pk)
        findings = {finding.identity: finding for finding in _findings(application)}
        existing = {
            (flag.rule_key, flag.document_id, flag.field_id): flag
            for flag in application.flags.all()
        }
        now = timezone.now()
        for identity, finding in findings.items():
            flag = existing.get(identity)
            if flag is None:
                Flag.objects.create(
                    application=application,
                    document_id=finding.document_id,
                    field_id=finding.field_id,
                    rule_key=finding.rule_key,
                    title=finding.title,
                    severity=finding.severity,
                    message=finding.message,
                    values=finding.values,
                )
                continue
            flag.message = finding.message
            flag.values = finding.values
            if flag.status == Flag.Status.RESOLVED:
                flag.move_to(Flag.Status.OPEN)
                flag.resolved_by = None
                flag.resolved_at = None
                flag.note = ""
            flag.save()
        for identity, flag in existing.items():
            if identity not in findings and flag.status == Flag.Status.OPEN:
                flag.move_to(Flag.Status.RESOLVED)
                flag.resolved_at = now
                flag.note = "No longer applies after the values changed."
                flag.save()
        application.risk_score = sum(
            flag.weight for flag in application.flags.filter(status=Flag.Status.OPEN)
        )
        application.save(update_fields=["risk_score", "updated_at"])
    return list(application.flags.all())


def flag_waive(*, flag: Flag, actor, note: str) -> Flag:
    """A reviewer accepts the risk; the note says why, for the audit."""
    if not actor.has_perm("review.review_application"):
        from django.core.exceptions import PermissionDenied

        raise PermissionDenied("Only reviewers can waive flags.")
    note = note.strip()
    if not note:
        raise ValidationError(
            "Write a note saying why this flag can be waived.", code="note_required"
        )
    with transaction.atomic():
        flag = Flag.objects.select_for_update().get(pk=flag.pk)
        flag.move_to(Flag.Status.WAIVED)
        flag.note = note
        flag.resolved_by = actor
        flag.resolved_at = timezone.now()
        flag.save()
        application = flag.application
        application.risk_score = sum(
            f.weight for f in application.flags.filter(status=Flag.Status.OPEN)
        )
        application.save(update_fields=["risk_score", "updated_at"])
    return flag


__all__ = ["flag_waive", "flags_refresh"]
