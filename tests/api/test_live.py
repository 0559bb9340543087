"""The README's walk-through ("A client's view") over real HTTP: httpx against a live server,
a real Celery worker reading the document. Create an application for an applicant, upload a
pay stub, poll until it is read, fetch the values with their evidence; then the applicant
confirms them in the app, submits, and a reviewer's key decides through the API."""

from __future__ import annotations

import random
import time

import httpx
import pytest

from applications.models import Application
from extraction.models import Field
from review.services import application_submit
from samples.payroll import FIRST_PERIOD_START, pay_stub_pdf, payroll
from tests.review.conftest import confirm_as_applicant

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def test_an_integration_creates_uploads_and_fetches_the_verified_values(
    world, live_server, start_worker, mailoutbox
):
    worker = start_worker()
    checks = payroll(random.Random(3), FIRST_PERIOD_START, 1)  # noqa: S311 - test data
    stub = pay_stub_pdf(checks, employee_id="004512", ssn_last4="6789")
    api = httpx.Client(
        base_url=f"{live_server.url}/api/v1",
        headers={"Authorization": f"Bearer {world.keys['all']}"},
        timeout=60,
    )

    created = api.post(
        "/applications",
        json={
            "applicant_email": "jordan@example.com",
            "stated_name": "Jordan A. Rivera",
            "stated_employer": "Northwind Logistics",
            "stated_monthly_income": "4250.00",
        },
        headers={"Idempotency-Key": "walkthrough-1"},
    )
    assert created.status_code == 201, created.text
    application_id = created.json()["id"]

    uploaded = api.post(
        f"/applications/{application_id}/documents",
        files={"file": ("stub.pdf", stub, "application/pdf")},
        data={"document_type": "pay_stub"},
        headers={"Idempotency-Key": "walkthrough-2"},
    )
    assert uploaded.status_code == 201, uploaded.text
    # The client's retry of the same upload gets the same document back.
    retried = api.post(
        f"/applications/{application_id}/documents",
        files={"file": ("stub.pdf", stub, "application/pdf")},
        data={"document_type": "pay_stub"},
        headers={"Idempotency-Key": "walkthrough-2"},
    )
    assert retried.status_code == 200 and retried.json()["id"] == uploaded.json()["id"]

    deadline = time.monotonic() + 120
    while True:
        application = api.get(f"/applications/{application_id}").json()
        (document,) = application["documents"]
        if document["status"] not in ("queued", "processing"):
            break
        assert time.monotonic() < deadline, worker.output()[-3000:]
        time.sleep(0.5)
    assert document["status"] == "extracted", (document, worker.output()[-3000:])
    fields = {field["key"]: field for field in document["fields"]}
    assert fields["gross_pay"]["normalized"], fields
    assert fields["gross_pay"]["page"] == 1 and len(fields["gross_pay"]["box"]) == 4
    assert fields["gross_pay"]["grounded"] is True
    page = api.get(document["pages"][0]["image_url"].removeprefix("/api/v1"))
    assert page.status_code == 200 and page.headers["content-type"].startswith("image/")

    # The applicant (invited by e-mail) checks the values and submits in the app.
    assert any("jordan@example.com" in message.to for message in mailoutbox)
    owned = Application.objects.get(pk=application_id)
    confirm_as_applicant(list(Field.objects.filter(document__application=owned)))
    application_submit(application=owned, actor=owned.owner)

    version = api.get(f"/applications/{application_id}").json()["review_version"]
    decided = api.post(
        f"/applications/{application_id}/decision",
        json={"kind": "approve", "version": version, "confirm_open_flags": True, "note": "OK"},
    )
    assert decided.status_code == 201, decided.text
    final = api.get(f"/applications/{application_id}").json()
    assert final["status"] == "approved"
    assert {f["status"] for f in final["documents"][0]["fields"]} == {"verified"}
