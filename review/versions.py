"""The version of an application as a reviewer saw it, and what changed since.

A decision covers exactly what the person saw: the review page carries a version token of the
documents, values and flags it rendered; the decision is refused when the application's version
now differs, and the page lists what changed. The token is a signed snapshot (document ids with
name and status, a keyed digest of each value and its status, each flag's status), so it can be
compared piece by piece without trusting the browser and without putting values in the page.
"""

from __future__ import annotations

from django.core import signing
from django.utils.crypto import salted_hmac

from applications.models import Application
from extraction.models import Document, Field
from rules.models import RULE_ERROR_PREFIX, Flag

SALT = "review.application-version"


def _digest(value: str, status: str) -> str:
    # Keyed, so that the token (visible in the page) never gives away a value such as an SSN.
    return salted_hmac(SALT, f"{value}\x00{status}").hexdigest()[:16]


def application_snapshot(*, application: Application) -> dict:
    """{"d": {id: [name, status, type id]}, "f": {id: digest}, "g": {id: status}}; ids are
    strings (JSON keys)."""
    documents = Document.objects.filter(application=application).values_list(
        "pk", "original_name", "status", "document_type_id"
    )
    fields = Field.objects.filter(
        document__application=application, document__removed_at__isnull=True
    ).values_list("pk", "value", "status")
    flags = (
        Flag.objects.filter(application=application)
        .exclude(rule_key__startswith=RULE_ERROR_PREFIX)
        .values_list("pk", "status")
    )
    return {
        "d": {str(pk): [name, status, type_id] for pk, name, status, type_id in documents},
        "f": {str(pk): _digest(value, status) for pk, value, status in fields},
        "g": {str(pk): status for pk, status in flags},
    }


def application_version(*, application: Application) -> str:
    """The token a review page carries in its forms (a few hundred characters)."""
    return signing.dumps(application_snapshot(application=application), salt=SALT, compress=True)


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def application_changes(*, application: Application, version: str) -> list[str]:
    """What changed since ``version`` was rendered, one plain sentence each; empty when nothing
    did. A missing or forged token counts as a change (the page cannot be vouched for)."""
    try:
        seen = signing.loads(version or "", salt=SALT)
    except signing.BadSignature:
        return ["The page you acted on could not be matched to this application."]
    now = application_snapshot(application=application)
    if seen == now:
        return []
    changes: list[str] = []
    for pk in now["d"].keys() - seen["d"].keys():
        changes.append(f"Document “{now['d'][pk][0]}” was added.")
    for pk in seen["d"].keys() - now["d"].keys():
        changes.append(f"Document “{seen['d'][pk][0]}” was removed.")
    for pk in now["d"].keys() & seen["d"].keys():
        if now["d"][pk] != seen["d"][pk]:
            name, status = now["d"][pk][0], now["d"][pk][1]
            label = dict(Document.Status.choices).get(status, status).lower()
            changes.append(f"Document “{name}” changed: it is now {label}.")
    changed_fields = [
        int(pk)
        for pk in now["f"].keys() | seen["f"].keys()
        if now["f"].get(pk) != seen["f"].get(pk) and pk in now["f"]
    ]
    new_field_ids = {int(pk) for pk in now["f"].keys() - seen["f"].keys()}
    fields = Field.objects.filter(pk__in=changed_fields).select_related("document")
    added_values = 0
    for field in fields.order_by("document_id", "position", "pk"):
        if field.pk in new_field_ids:
            added_values += 1
            continue
        shown = "hidden, sensitive" if field.sensitive else (field.value or "empty")
        changes.append(
            f"{field.label} on “{field.document.original_name}” changed "
            f"(now: {shown}, {field.get_status_display().lower()})."
        )
    if added_values:
        changes.append(f"{_plural(added_values, 'new value')} appeared.")
    changed_flags = [
        int(pk)
        for pk in now["g"].keys() | seen["g"].keys()
        if now["g"].get(pk) != seen["g"].get(pk)
    ]
    for flag in Flag.objects.filter(pk__in=changed_flags).order_by("pk"):
        if str(flag.pk) not in seen["g"]:
            changes.append(f"Flag “{flag.title}” was raised.")
        else:
            changes.append(f"Flag “{flag.title}” is now {flag.get_status_display().lower()}.")
    removed_flags = seen["g"].keys() - now["g"].keys()
    if removed_flags:
        changes.append(f"{_plural(len(removed_flags), 'flag')} disappeared.")
    return changes or ["The application changed since the page was opened."]
