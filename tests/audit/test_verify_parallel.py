"""`verify_history --workers N` reads the trail in N processes and finds the same problems, at
the same rows, as one pass; on committed data, since each process has its own connection."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from accounts.models import Role
from audit.models import AuditEvent
from audit.services import audit_record
from audit.triggers import append_only_drop, append_only_install
from tests.factories import FieldFactory

pytestmark = pytest.mark.django_db(transaction=True)


def run(workers: int) -> tuple[int, str]:
    out, err = StringIO(), StringIO()
    try:
        call_command("verify_history", workers=workers, chunk_size=2, stdout=out, stderr=err)
    except CommandError as error:
        return error.returncode, err.getvalue()
    return 0, out.getvalue()


def first_broken(output: str) -> str:
    return next(line for line in output.splitlines() if "First broken row" in line)


def test_several_processes_verify_the_whole_trail_and_find_what_one_pass_finds(settings, tmp_path):
    settings.AUDIT_SEAL_PATH = tmp_path / "seal.log"
    for _ in range(4):
        FieldFactory()
    for n in range(16):
        audit_record(action="rule.changed", role=Role.ADMIN, data={"n": n})
    assert AuditEvent.objects.count() == 20

    one, many = run(1), run(3)
    assert one[0] == many[0] == 0
    assert "20 events, 4 value revisions and 4 current values" in many[1]

    # Processes split 20 events as 1-6, 7-13, 14-20: take out the first two of the second
    # range, so that the gap starts where a process starts.
    append_only_drop(connection, "audit_auditevent")
    try:
        AuditEvent.objects.filter(sequence__in=[7, 8])._raw_delete(using="default")
    finally:
        append_only_install(connection, "audit_auditevent")
    one, many = run(1), run(3)
    assert one[0] == many[0] == 1
    ninth = AuditEvent.objects.get(sequence=9).pk
    assert f"audit_auditevent id={ninth}: event #9 comes after #6" in first_broken(one[1])
    assert first_broken(one[1]) == first_broken(many[1])
