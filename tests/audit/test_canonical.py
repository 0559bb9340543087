"""The hand-assembled canonical JSON is byte for byte what ``json.dumps`` gives, so MACs and
hashes written by the services verify, whichever way a timestamp comes back from the database."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta

import pytest
from django.db.models import CharField
from django.db.models.functions import Cast
from hypothesis import given
from hypothesis import strategies as st

from audit.canonical import iso_utc, quick_load, quick_payload
from audit.models import AuditEvent
from audit.services import audit_record, payload_bytes, seal_head
from extraction.models import revision_hash
from extraction.verification import history_verify

texts = st.text(max_size=30)
ids = st.none() | st.integers(min_value=0, max_value=2**62)
moments = st.datetimes(
    # Naive bounds are what Hypothesis asks for; the values it makes carry UTC.
    min_value=datetime(2000, 1, 1),  # noqa: DTZ001
    max_value=datetime(2100, 1, 1),  # noqa: DTZ001
    timezones=st.just(UTC),
)
data = st.dictionaries(
    st.text(max_size=10),
    st.none() | st.booleans() | st.integers() | texts | st.lists(texts, max_size=3),
    max_size=5,
)


@given(
    sequence=st.integers(min_value=1, max_value=2**62),
    created_at=moments,
    action=texts,
    actor_id=ids,
    role=texts,
    application_id=ids,
    subject_type=texts,
    subject_id=texts,
    data=data,
    previous=texts,
)
def test_an_events_payload_is_what_json_dumps_gives(
    sequence, created_at, action, actor_id, role, application_id, subject_type, subject_id, data,
    previous,
):  # fmt: skip
    reference = json.dumps(
        {
            "sequence": sequence,
            "created_at": created_at.isoformat(),
            "action": action,
            "actor": actor_id,
            "role": role,
            "application": application_id,
            "subject_type": subject_type,
            "subject_id": subject_id,
            "data": data,
            "previous": previous,
        },
        sort_keys=True,
        separators=(",", ":"),
        default=str,
    ).encode()
    assert reference == payload_bytes(
        sequence, created_at, action, actor_id, role, application_id, subject_type, subject_id,
        data, previous,
    )  # fmt: skip


@given(
    field_id=st.integers(min_value=1, max_value=2**62),
    number=st.integers(min_value=1, max_value=10**6),
    value=texts,
    actor_id=ids,
    role=texts,
    action=texts,
    reason=texts,
    created_at=moments,
    previous=texts,
)
def test_a_revisions_hash_is_the_sha256_of_what_json_dumps_gives(
    field_id, number, value, actor_id, role, action, reason, created_at, previous
):
    reference = json.dumps(
        {
            "field": field_id,
            "number": number,
            "value": value,
            "actor": actor_id,
            "role": role,
            "action": action,
            "reason": reason,
            "created_at": created_at.isoformat(),
            "previous": previous,
        },
        sort_keys=True,
    )
    assert hashlib.sha256(reference.encode()).hexdigest() == revision_hash(
        field_id, number, value, actor_id, role, action, reason, created_at, previous
    )


@pytest.mark.django_db
def test_the_databases_text_of_a_timestamp_reads_as_its_isoformat():
    base = datetime(2026, 11, 30, 11, 0, 0, tzinfo=UTC)
    moments = [base + timedelta(microseconds=us) for us in (0, 1, 100000, 120000, 999999, 500)]
    AuditEvent.objects.bulk_create(
        [
            AuditEvent(sequence=n, created_at=moment, action="rule.changed", mac="0" * 64)
            for n, moment in enumerate(moments, start=1)
        ]
    )
    texts = AuditEvent.objects.order_by("sequence").values_list(
        Cast("created_at", output_field=CharField()), flat=True
    )
    assert [iso_utc(text) for text in texts] == [moment.isoformat() for moment in moments]


@given(
    sequence=st.integers(min_value=1, max_value=2**62),
    created_at=moments,
    action=texts,
    actor_id=ids,
    data=data,
    previous=texts,
)
def test_the_quick_payload_is_the_canonical_one_or_visibly_not(
    sequence, created_at, action, actor_id, data, previous
):
    """Verification tries the quick payload first: for ASCII content it is the canonical one;
    otherwise it differs (and the canonical one is computed), never the other way round."""
    columns = (sequence, created_at, action, actor_id, "reviewer", 7, "field", "1", data, previous)
    canonical = payload_bytes(*columns)
    quick = quick_payload(*columns)
    if canonical.isascii() and quick is not None and quick.isascii():
        assert quick == canonical
    if quick is not None and quick == canonical:
        assert json.loads(quick) == json.loads(canonical)


@given(data=data | st.dictionaries(st.text(max_size=5), st.integers() | st.floats(), max_size=4))
def test_the_quick_reader_reads_what_json_reads_or_refuses(data):
    text = json.dumps(data)
    quick = quick_load(text)
    assert quick is None or repr(quick) == repr(json.loads(text))


@pytest.mark.django_db
def test_events_whose_quick_payload_differs_still_verify(settings, tmp_path):
    """Non-ASCII text and integers past 64 bits take the canonical path, and verify; a float is
    recorded as its spelling, which PostgreSQL's jsonb would otherwise change."""
    settings.AUDIT_SEAL_PATH = tmp_path / "seal.log"
    for data in ({"note": "Café ☕"}, {"amount": 1e16}, {"big": 2**70}, {"nested": [{"b": 1}]}):
        audit_record(action="flag.waived", role="reviewer", data=data)
    seal_head()
    report = history_verify()
    assert report.ok, report.summary()
    assert report.events == 4
    assert AuditEvent.objects.get(sequence=2).data == {"amount": "1e+16"}
