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

from audit.canonical import iso_utc
from audit.models import AuditEvent
from audit.services import payload_bytes
from extraction.models import revision_hash

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
