"""One application from upload to approval over real HTTP, read by a real Celery worker."""

from __future__ import annotations

import json
import re

import httpx
import pytest

from accounts.models import ADMINS_GROUP, REVIEWERS_GROUP
from accounts.services import user_email_mark_verified
from applications.models import Application
from extraction.history import verify_chain
from extraction.models import Document, DocumentType
from tests.waiting import wait_for

pytestmark = pytest.mark.worker

CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


class Browserless:
    """An HTTP client that keeps its session cookie and sends the CSRF token of the last form."""

    def __init__(self, base_url: str):
        self.http = httpx.Client(base_url=base_url, follow_redirects=True, timeout=30)
        self.token = ""

    def get(self, path: str, **kwargs) -> httpx.Response:
        response = self.http.get(path, **kwargs)
        assert response.status_code == 200, (path, response.status_code)
        if match := CSRF.search(response.text):
            self.token = match.group(1)
        return response

    def post(self, path: str, data: dict, files=None) -> httpx.Response:
        response = self.http.post(
            path,
            data={"csrfmiddlewaretoken": self.token, **data},
            files=files,
            headers={"Referer": str(self.http.base_url)},
        )
        assert response.status_code == 200, (path, response.status_code, response.text[:500])
        if match := CSRF.search(response.text):
            self.token = match.group(1)
        return response

    def login(self, email: str, password: str) -> None:
        self.get("/accounts/login/")
        response = self.post("/accounts/login/", {"login": email, "password": password})
        assert "Sign out" in response.text


@pytest.fixture
def people(django_user_model, staff_groups, shipped_types):
    make = django_user_model.objects.create_user
    applicant = make(email="jordan@example.com", password="pw-applicant", full_name="Jordan")
    reviewer = make(email="riley@example.com", password="pw-reviewer", is_staff=True)
    reviewer.groups.add(staff_groups[REVIEWERS_GROUP])
    admin = make(email="avery@example.com", password="pw-admin", is_staff=True)
    admin.groups.add(staff_groups[ADMINS_GROUP])
    for person in (applicant, reviewer, admin):
        user_email_mark_verified(user=person)
    return applicant, reviewer, admin


def test_an_application_goes_from_upload_to_approval(
    live_server, celery_worker_process, people, sample_documents
):
    applicant, reviewer, admin = people
    stub = sample_documents / "pay_stub_2026-01-30.pdf"
    expected = json.loads(stub.with_name("pay_stub_2026-01-30.expected.json").read_text())["fields"]

    # The applicant signs in, opens an application and uploads a pay stub.
    me = Browserless(live_server.url)
    me.login("jordan@example.com", "pw-applicant")
    me.get("/applications/")
    me.post(
        "/applications/",
        {"stated_name": "Jordan A. Rivera", "stated_employer": "Northwind", "create": "1"},
    )
    application = Application.objects.get(owner=applicant)
    detail = f"/applications/{application.pk}/"
    pay_stub_type = str(DocumentType.objects.get(key="pay_stub").pk)
    me.post(
        detail,
        {"document_type": pay_stub_type, "upload": "1"},
        files={"files": (stub.name, stub.read_bytes(), "application/pdf")},
    )

    # The worker reads it; the applicant's page shows the document as read.
    document = Document.objects.get(application=application)
    wait_for(
        lambda: Document.objects.get(pk=document.pk).is_finished,
        timeout=90,
        what="the pay stub to be read",
        worker=celery_worker_process,
    )
    document.refresh_from_db()
    assert document.status == Document.Status.EXTRACTED, document.reason
    fields = {field.key: field for field in document.fields.all()}
    assert {key: field.normalized for key, field in fields.items()} == expected
    assert all(field.grounded and field.page_id for field in fields.values())
    assert "Read" in me.get(f"{detail}documents/").text

    # The applicant corrects one value beside the page and confirms the rest.
    net = fields["net_pay"]
    page = me.get(f"/documents/{document.pk}/")
    assert f"/documents/{document.pk}/pages/1/image/" in page.text
    image = me.http.get(f"/documents/{document.pk}/pages/1/image/")
    assert image.headers["content-type"] == "image/png" and image.content[:4] == b"\x89PNG"
    me.post(
        f"/fields/{net.pk}/",
        {"value": "1,898.08", "reason": "The deposit was 1,898.08", "save": "1", "page": "1"},
    )
    me.post(f"/documents/{document.pk}/", {"confirm_all": "1"})
    summary = me.post(detail, {"submit": "1"})
    # Submitting first shows what the applicant changed, then asks once more.
    assert "1,698.08" in summary.text and "1,898.08" in summary.text
    me.post(detail, {"submit": "1", "confirm_submit": "1"})
    application.refresh_from_db()
    assert application.status == Application.Status.SUBMITTED

    # The reviewer finds it in the queue, sees the flag about the changed amount, and approves.
    staff = Browserless(live_server.url)
    staff.login("riley@example.com", "pw-reviewer")
    assert application.reference in staff.get("/review/").text
    review = staff.post(f"/review/{application.pk}/", {"claim": "1"})
    assert "Amount changed from the machine" in review.text
    # The decision carries the version of the page it was made on.
    version = re.search(r'name="version" value="([^"]+)"', review.text).group(1)
    # A high flag is open, so approving needs an explicit confirmation.
    staff.post(
        f"/review/{application.pk}/",
        {"decide": "approve", "note": "Matches the bank.", "version": version},
    )
    application.refresh_from_db()
    assert application.status == Application.Status.IN_REVIEW
    staff.post(
        f"/review/{application.pk}/",
        {
            "decide": "approve",
            "note": "Matches the bank.",
            "confirm_open_flags": "1",
            "version": version,
        },
    )
    application.refresh_from_db()
    assert application.status == Application.Status.APPROVED

    # The history holds the machine's reading, the applicant's correction, then the
    # reviewer's verification by approving.
    net.refresh_from_db()
    assert (net.machine_value, net.value, net.status) == ("1,698.08", "1,898.08", "verified")
    history = list(net.revisions.values_list("value", "role", "actor__email", "action"))
    assert history == [
        ("1,698.08", "machine", None, "extracted"),
        ("1,898.08", "applicant", "jordan@example.com", "corrected"),
        ("1,898.08", "reviewer", "riley@example.com", "verified"),
    ]
    assert net.revisions.get(number=2).reason == "The deposit was 1,898.08"
    assert verify_chain(net.revisions.all())
    others = [field for key, field in fields.items() if key != "net_pay"]
    for field in others:
        assert list(field.revisions.values_list("role", "action")) == [
            ("machine", "extracted"),
            ("applicant", "confirmed"),
            ("reviewer", "verified"),
        ]

    # The admin audits the change.
    auditor = Browserless(live_server.url)
    auditor.login("avery@example.com", "pw-admin")
    audit = auditor.get("/history/", params={"application_reference": application.reference})
    assert "1,698.08" in audit.text and "1,898.08" in audit.text
    assert "The deposit was 1,898.08" in audit.text
