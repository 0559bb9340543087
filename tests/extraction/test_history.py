"""A field's history: the machine's readings of a document appended together."""

from __future__ import annotations

import pytest

from accounts.models import Role
from audit.models import AuditEvent
from audit.services import seal_head
from extraction.history import RevisionAction, revision_append, revisions_append
from extraction.models import Field, FieldRevision
from extraction.verification import history_verify
from tests.factories import DocumentFactory, FieldFactory

pytestmark = pytest.mark.django_db

VALUES = {"employer": "Acme Corp", "gross": "4,250.00", "pay_date": "01/15/2026"}
REREAD = {"employer": "Acme Corporation", "gross": "4,250.00", "pay_date": "01/16/2026"}


@pytest.fixture(autouse=True)
def own_seal(settings, tmp_path):
    settings.AUDIT_SEAL_PATH = tmp_path / "audit" / "seal.log"


def _fields() -> list[Field]:
    document = DocumentFactory()
    return [
        FieldFactory(document=document, key=key, machine_value=value, machine_revision=False)
        for key, value in VALUES.items()
    ]


def _history(fields: list[Field]) -> list[tuple]:
    """Each field's revisions with the event that records it, ids and times left out, in the
    order of the trail."""
    rows = []
    revisions = FieldRevision.objects.filter(field__in=fields).order_by("audit_sequence")
    for revision in revisions:
        field = revision.field
        event = AuditEvent.objects.get(sequence=revision.audit_sequence)
        data = dict(event.data)
        rows.append(
            (
                field.key,
                revision.number,
                revision.value,
                revision.role,
                revision.action,
                revision.reason,
                revision.actor_id,
                revision.previous_hash
                == (
                    field.revisions.get(number=revision.number - 1).hash
                    if revision.number > 1
                    else ""
                ),
                revision.hash == revision.compute_hash(),
                event.action,
                event.role,
                event.actor_id,
                event.application_id == field.document.application_id,
                (event.subject_type, event.subject_id) == ("field", str(field.pk)),
                (data.pop("field"), data.pop("revision_hash")) == (field.pk, revision.hash),
                data,
            )
        )
    return rows


def test_a_reading_appended_at_once_has_the_history_of_one_appended_field_by_field():
    """Appending a document's readings together gives each field the revision, the hash chain
    and the keyed event that appending them one at a time gives, in the same order; the whole
    history verifies."""
    one_by_one, together = _fields(), _fields()
    for values, action in ((VALUES, RevisionAction.EXTRACTED), (REREAD, RevisionAction.REREAD)):
        changed = [
            f for f in one_by_one if values[f.key] != f.machine_value or action == "extracted"
        ]
        for field in changed:
            revision_append(
                field=field, value=values[field.key], actor=None, role=Role.MACHINE, action=action
            )
            field.machine_value = values[field.key]
        appends = [
            (field, values[field.key], action)
            for field in together
            if values[field.key] != field.machine_value or action == "extracted"
        ]
        revisions = revisions_append(appends=appends, actor=None, role=Role.MACHINE)
        assert [r.field for r in revisions] == [field for field, _, _ in appends]
        for field, value, _ in appends:
            field.machine_value = value

    assert _history(together) == _history(one_by_one)
    assert len(_history(together)) == len(VALUES) + 2
    seal_head()
    report = history_verify()
    assert report.ok, report.summary()


def test_nothing_to_append_records_nothing():
    """An empty reading appends no revision and no event."""
    assert revisions_append(appends=[], actor=None, role=Role.MACHINE) == []
    assert not AuditEvent.objects.filter(action__startswith="field.").exists()
