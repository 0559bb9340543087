"""Idempotency-Key under real concurrency: several threads send the same create or upload at
the same moment (each its own connection, as separate web workers would), many times over.
Each time exactly one row is made and every answer names it. Runs on SQLite and, with
DATABASE_URL, on PostgreSQL."""

from __future__ import annotations

import json
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, connections
from django.test import Client
from django.utils import timezone

from api import services
from api.models import ApiKey, IdempotencyRecord
from applications.models import Application
from extraction.models import Document
from tests.factories import png_bytes

pytestmark = pytest.mark.django_db(transaction=True)

API = "/api/v1"
CREATE_ROUNDS, CREATE_THREADS = 25, 6
UPLOAD_ROUNDS, UPLOAD_THREADS = 5, 4


def _concurrently(threads: int, send) -> list:
    """Run ``send()`` in ``threads`` threads released together; their answers."""
    barrier = threading.Barrier(threads)

    def one(_):
        try:
            barrier.wait()
            return send()
        finally:
            connections.close_all()

    with ThreadPoolExecutor(threads) as pool:
        return list(pool.map(one, range(threads)))


def _create(world, key: str, idempotency_key: str):
    client = Client(headers={"Authorization": f"Bearer {world.keys[key]}"})
    response = client.post(
        f"{API}/applications",
        data=json.dumps({"applicant_email": "race@example.com", "stated_name": "Rae Race"}),
        content_type="application/json",
        headers={"Idempotency-Key": idempotency_key},
    )
    return response.status_code, json.loads(response.content)


def test_concurrent_creates_with_one_key_make_one_application(world, settings):
    settings.API_RATE_LIMIT = "10000/min"
    for round_ in range(CREATE_ROUNDS):
        before = Application.objects.count()
        idempotency_key = str(uuid.uuid4())
        answers = _concurrently(
            CREATE_THREADS, lambda k=idempotency_key: _create(world, "write", k)
        )
        statuses = sorted(status for status, _ in answers)
        assert statuses == [200] * (CREATE_THREADS - 1) + [201], (round_, answers)
        assert len({body["id"] for _, body in answers}) == 1, (round_, answers)
        assert Application.objects.count() == before + 1, round_
    assert IdempotencyRecord.objects.filter(state="done").count() == CREATE_ROUNDS
    assert not IdempotencyRecord.objects.filter(state="pending").exists()


def test_a_retry_gets_the_first_answer_and_a_changed_request_is_refused(world):
    status, first = _create(world, "write", "same-key")
    assert status == 201
    status, again = _create(world, "write", "same-key")
    assert status == 200 and again["id"] == first["id"]
    client = Client(headers={"Authorization": f"Bearer {world.keys['write']}"})
    changed = client.post(
        f"{API}/applications",
        data=json.dumps({"applicant_email": "race@example.com", "stated_name": "Someone Else"}),
        content_type="application/json",
        headers={"Idempotency-Key": "same-key"},
    )
    assert changed.status_code == 422
    assert json.loads(changed.content)["code"] == "idempotency_key_reused"
    # Keys are per API key: another key's "same-key" is a request of its own.
    status, other = _create(world, "all", "same-key")
    assert status == 201 and other["id"] != first["id"]


def _upload(world, application_id: int, data: bytes, idempotency_key: str):
    client = Client()
    client.force_login(world.people["owner"])
    response = client.post(
        f"{API}/applications/{application_id}/documents",
        {"file": SimpleUploadedFile("stub.png", data)},
        headers={"Idempotency-Key": idempotency_key},
    )
    return response.status_code, json.loads(response.content)


def test_concurrent_uploads_with_one_key_store_one_document(world):
    application_id = world.draft.pk
    for round_ in range(UPLOAD_ROUNDS):
        before = Document.objects.filter(application_id=application_id).count()
        data = png_bytes(text=f"Pay stub {round_}")
        idempotency_key = str(uuid.uuid4())
        answers = _concurrently(
            UPLOAD_THREADS,
            lambda d=data, k=idempotency_key: _upload(world, application_id, d, k),
        )
        statuses = sorted(status for status, _ in answers)
        assert statuses == [200] * (UPLOAD_THREADS - 1) + [201], (round_, answers)
        assert len({body["id"] for _, body in answers}) == 1, (round_, answers)
        assert Document.objects.filter(application_id=application_id).count() == before + 1


def test_a_refused_upload_releases_its_key_for_the_corrected_retry(world):
    status, refused = _upload(world, world.draft.pk, b"not a document", "retry-key")
    assert status == 422 and refused["code"] == "upload_unsupported_type"
    assert not IdempotencyRecord.objects.exists()
    status, stored = _upload(world, world.draft.pk, png_bytes(text="fixed"), "retry-key")
    assert status == 201
    assert connection.vendor in ("sqlite", "postgresql")


def test_a_retry_while_the_first_request_still_works_is_told_to_come_back(world, monkeypatch):
    monkeypatch.setattr(services, "WAIT_SECONDS", 0.2)
    record = IdempotencyRecord.objects.create(
        caller=f"key:{_key_id('write')}",
        key="busy",
        fingerprint=services.fingerprint(
            "POST",
            f"{API}/applications",
            {
                "applicant_email": "race@example.com",
                "applicant_name": "",
                "stated_name": "Rae Race",
                "stated_employer": "",
                "stated_monthly_income": None,
                "title": "",
            },
        ),
        created_at=timezone.now(),
    )
    status, answer = _create(world, "write", "busy")
    assert status == 409 and answer["code"] == "idempotency_in_progress", answer
    assert Application.objects.filter(owner__email="race@example.com").count() == 0
    # A claim abandoned by a crashed worker (older than STALE_AFTER) is taken over.
    IdempotencyRecord.objects.filter(pk=record.pk).update(
        created_at=timezone.now() - services.STALE_AFTER * 2
    )
    status, answer = _create(world, "write", "busy")
    assert status == 201, answer
    assert Application.objects.filter(owner__email="race@example.com").count() == 1


def _key_id(name: str) -> int:
    return ApiKey.objects.get(name=name).pk
