"""`manage.py verify_history`: the whole history verifies, and every kind of tampering is caught
at the exact row with a non-zero exit."""

from __future__ import annotations

import hashlib
import hmac
import json
from contextlib import contextmanager
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction

from accounts.models import Role
from audit.models import AuditEvent
from audit.seal import seal_path
from audit.services import audit_record, payload_bytes, seal_head
from audit.triggers import append_only_drop, append_only_install
from extraction.history import RevisionAction, revision_append
from extraction.models import Field, FieldRevision, revision_hash
from tests.factories import FieldFactory, ReviewerFactory

pytestmark = pytest.mark.django_db

EVENTS = "audit_auditevent"
REVISIONS = "extraction_fieldrevision"


@pytest.fixture(autouse=True)
def own_seal(settings, tmp_path):
    settings.AUDIT_SEAL_PATH = tmp_path / "audit" / "seal.log"


@pytest.fixture
def history(staff_groups):
    """Two fields read by the machine, one corrected twice by a reviewer, then an unrelated
    event; the head sealed."""
    reviewer = ReviewerFactory()
    first = FieldFactory(machine_value="625.50")
    second = FieldFactory(document=first.document, machine_value="Acme Corp")
    for value, reason in (("625.55", "Typo on the stub"), ("625.57", "Second look")):
        revision_append(
            field=first,
            value=value,
            actor=reviewer,
            role=Role.REVIEWER,
            action=RevisionAction.CORRECTED,
            reason=reason,
        )
        Field.objects.filter(pk=first.pk).update(value=value)
    audit_record(
        action="application.claimed",
        actor=reviewer,
        role=Role.REVIEWER,
        application=first.document.application_id,
    )
    seal_head()
    return {"reviewer": reviewer, "first": first, "second": second}


def verify() -> tuple[str, str]:
    """Run the command; (stdout, stderr) when it passes, CommandError when it fails."""
    out, err = StringIO(), StringIO()
    try:
        call_command("verify_history", stdout=out, stderr=err)
    except CommandError as error:
        error.stderr = err.getvalue()
        raise
    return out.getvalue(), err.getvalue()


def broken(expected_row: str) -> str:
    """Run the command, expect exit 1 with ``expected_row`` named as the first broken row."""
    with pytest.raises(CommandError) as caught:
        verify()
    assert caught.value.returncode == 1
    first_line = next(line for line in caught.value.stderr.splitlines() if "First broken" in line)
    assert f"First broken row: {expected_row}:" in first_line, caught.value.stderr
    return first_line


@contextmanager
def triggers_dropped(table: str):
    append_only_drop(connection, table)
    try:
        yield
    finally:
        append_only_install(connection, table)


def raw(sql: str, params=()) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def newest_revision(field) -> FieldRevision:
    return FieldRevision.objects.filter(field=field).order_by("-number").first()


def test_an_intact_history_verifies_with_every_row_counted(history):
    out, _ = verify()
    assert "The whole history is intact: 5 events, 4 value revisions and 2 current values" in out


@pytest.mark.parametrize("table", [EVENTS, REVISIONS])
@pytest.mark.parametrize("statement", ["UPDATE {table} SET id = id", "DELETE FROM {table}"])
def test_the_database_itself_refuses_update_and_delete_of_audit_rows(history, table, statement):
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        raw(statement.format(table=table))


@pytest.mark.parametrize("table", [EVENTS, REVISIONS])
def test_postgresql_also_refuses_truncate_of_audit_rows(table):
    # Without rows written in the test's own transaction: PostgreSQL refuses TRUNCATE while
    # the deferred foreign-key checks of fresh rows are pending, which would hide the trigger.
    if connection.vendor != "postgresql":
        pytest.skip("SQLite has no TRUNCATE; its DELETE trigger covers a whole-table DELETE.")
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        raw(f"TRUNCATE {table} CASCADE")


def test_a_revision_changed_with_its_plain_hash_recomputed_is_caught_at_that_revision(history):
    revision = newest_revision(history["first"])
    revision.value = "999.99"
    forged = revision_hash(
        revision.field_id,
        revision.number,
        revision.value,
        revision.actor_id,
        revision.role,
        revision.action,
        revision.reason,
        revision.created_at,
        revision.previous_hash,
    )
    with triggers_dropped(REVISIONS):
        raw(
            "UPDATE extraction_fieldrevision SET value = %s, hash = %s WHERE id = %s",
            ["999.99", forged, revision.pk],
        )
    Field.objects.filter(pk=revision.field_id).update(value="999.99")
    line = broken(f"{REVISIONS} id={revision.pk}")
    assert "the revision was changed" in line


def test_an_event_changed_with_its_mac_recomputed_without_the_key_is_caught_at_that_event(
    history,
):
    event = AuditEvent.objects.get(action="application.claimed")
    data = {"note": "nothing to see"}
    payload = payload_bytes(
        event.sequence,
        event.created_at,
        event.action,
        event.actor_id,
        event.role,
        event.application_id,
        event.subject_type,
        event.subject_id,
        data,
        event.previous_mac,
    )
    guessed = hmac.new(b"a guessed key", payload, hashlib.sha256).hexdigest()
    with triggers_dropped(EVENTS):
        raw(
            "UPDATE audit_auditevent SET data = %s, mac = %s WHERE id = %s",
            [json.dumps(data), guessed, event.pk],
        )
    line = broken(f"{EVENTS} id={event.pk}")
    assert "MAC does not match" in line


def test_deleting_the_newest_revision_is_caught_at_the_event_that_recorded_it(history):
    revision = newest_revision(history["first"])
    event = AuditEvent.objects.get(sequence=revision.audit_sequence)
    with triggers_dropped(REVISIONS):
        raw("DELETE FROM extraction_fieldrevision WHERE id = %s", [revision.pk])
    line = broken(f"{EVENTS} id={event.pk}")
    assert f"records revision {revision.number} of field {revision.field_id}" in line
    assert "missing" in line


def test_deleting_the_newest_event_is_caught_by_the_seal(history):
    newest = AuditEvent.objects.order_by("-sequence").first()
    survivor = AuditEvent.objects.get(sequence=newest.sequence - 1)
    with triggers_dropped(EVENTS):
        raw("DELETE FROM audit_auditevent WHERE id = %s", [newest.pk])
    line = broken(f"{EVENTS} id={survivor.pk}")
    assert f"event #{newest.sequence} was sealed" in line
    assert "newest events were deleted" in line


def test_deleting_a_middle_event_with_the_triggers_dropped_is_caught_at_the_next_event(history):
    middle = AuditEvent.objects.get(action="application.claimed")
    claim_sequence = middle.sequence
    # A middle event that records no revision: its neighbours stay as they were.
    audit_record(action="application.released", role=Role.REVIEWER)
    after = AuditEvent.objects.get(sequence=claim_sequence + 1)
    seal_head()
    with triggers_dropped(EVENTS):
        raw("DELETE FROM audit_auditevent WHERE id = %s", [middle.pk])
    line = broken(f"{EVENTS} id={after.pk}")
    assert f"event #{claim_sequence} is missing" in line


def test_deleting_a_middle_revision_is_caught_at_the_event_that_recorded_it(history):
    first = history["first"]
    middle = FieldRevision.objects.get(field=first, number=2)
    event = AuditEvent.objects.get(sequence=middle.audit_sequence)
    with triggers_dropped(REVISIONS):
        raw("DELETE FROM extraction_fieldrevision WHERE id = %s", [middle.pk])
    broken(f"{EVENTS} id={event.pk}")


def test_a_fields_current_value_changed_behind_the_history_is_caught_at_that_field(history):
    second = history["second"]
    Field.objects.filter(pk=second.pk).update(value="Evil Corp")
    line = broken(f"extraction_field id={second.pk}")
    assert "changed outside the recorded history" in line


def test_a_machine_rereading_keeps_the_persons_value_and_still_verifies(history):
    first = history["first"]
    revision_append(
        field=first, value="625.00", actor=None, role=Role.MACHINE, action=RevisionAction.REREAD
    )
    seal_head()
    out, _ = verify()
    assert "intact" in out


def test_a_forged_seal_line_is_refused(history):
    with seal_path().open("a") as handle:
        handle.write(f"v1 1 {'0' * 64} 2026-01-01T00:00:00+00:00 {'f' * 64}\n")
    line = broken("seal")
    assert "not signed with the audit key" in line


def test_missing_triggers_are_reported(history):
    append_only_drop(connection, REVISIONS)
    line = broken(REVISIONS)
    assert "triggers" in line


def test_a_missing_seal_is_reported_while_events_exist(history):
    seal_path().unlink()
    line = broken("seal")
    assert "no seal" in line
