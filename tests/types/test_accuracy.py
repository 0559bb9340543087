"""Labelled samples and the accuracy check; and the whole path of issue 12: define a type in the
app, measure it, enable it, and an applicant's document of that type is read offline."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from applications.services import application_create
from audit.models import Action, AuditEvent
from core.models import Job
from evals.accuracy import (
    ACCURACY_JOB,
    SampleRefused,
    type_accuracy_run,
    type_accuracy_start,
    type_sample_add,
)
from evals.models import TypeSample
from extraction.models import Document
from extraction.type_services import document_type_save, documents_per_version
from tests.extraction.conftest import upload_and_read
from tests.factories import AdminFactory, UserFactory
from tests.review.races import race
from tests.waiting import wait_for

from .conftest import LEASE, form_data
from .samples import lease_pdf

RIGHT = {"tenant_name": "Maria Lopez", "monthly_rent": "1250.00", "start_date": "2026-03-01"}


@pytest.fixture
def lease(admin_user):
    document_type, _ = document_type_save(actor=admin_user, data=LEASE, create=True)
    return document_type


def add_samples(admin_user, lease):
    type_sample_add(
        actor=admin_user, document_type=lease, data=lease_pdf(), filename="a.pdf", expected=RIGHT
    )
    # The second sample's answer says another tenant: its tenant is scored wrong.
    type_sample_add(
        actor=admin_user,
        document_type=lease,
        data=lease_pdf(tenant="John Smith", rent="980.00", start="15/01/2026"),
        filename="b.pdf",
        expected={"tenant_name": "Jane Smith", "monthly_rent": "980", "start_date": "2026-01-15"},
    )


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["applicant", "reviewer"])
def test_only_admins_reach_samples_and_accuracy(client_for, applicant, reviewer, lease, who):
    client = client_for(applicant if who == "applicant" else reviewer)
    url = reverse("type_accuracy", args=["lease"])
    assert client.get(url).status_code == 403
    assert client.get(reverse("type_accuracy_job", args=["lease"])).status_code == 403
    upload = SimpleUploadedFile("a.pdf", lease_pdf())
    assert client.post(url, {"file": upload, "expected_tenant_name": "X"}).status_code == 403
    assert client.post(url, {"measure": "1"}).status_code == 403
    assert not TypeSample.objects.exists() and not Job.objects.exists()


@pytest.mark.django_db
def test_an_admin_adds_and_removes_samples_recorded_and_a_hostile_one_is_refused(
    client_for, admin_user, lease
):
    client = client_for(admin_user)
    url = reverse("type_accuracy", args=["lease"])
    response = client.post(
        url,
        {
            "file": SimpleUploadedFile("lease-a.pdf", lease_pdf()),
            "expected_tenant_name": "Maria Lopez",
            "expected_monthly_rent": "1,250.00",
            "expected_start_date": "",
        },
    )
    assert response.status_code == 302
    sample = TypeSample.objects.get()
    assert sample.expected == {
        "tenant_name": "Maria Lopez",
        "monthly_rent": "1,250.00",
        "start_date": None,
    }
    assert sample.media_type == "application/pdf" and sample.added_by == admin_user
    added = AuditEvent.objects.get(action=Action.DOCUMENT_TYPE_SAMPLE_ADDED)
    assert (added.actor, added.data["file"]) == (admin_user, "lease-a.pdf")
    # A file that is not what it says: refused in plain words, nothing stored.
    response = client.post(
        url, {"file": SimpleUploadedFile("lease.pdf", b"%PDF-1.7\n" + b"\x00junk" * 100)}
    )
    assert response.status_code == 400
    assert 'class="field-error" role="alert"' in response.content.decode()
    assert TypeSample.objects.count() == 1
    # Removing, twice (a double click): one removal, recorded once.
    client.post(url, {"remove": str(sample.pk)})
    client.post(url, {"remove": str(sample.pk)})
    assert not TypeSample.objects.exists()
    assert AuditEvent.objects.filter(action=Action.DOCUMENT_TYPE_SAMPLE_REMOVED).count() == 1
    # Samples are not documents: nothing of them shows anywhere else.
    assert Document.objects.count() == 0


@pytest.mark.django_db
def test_accuracy_per_field_for_the_offline_reader_and_the_llm(
    settings, fake_llm, admin_user, lease, client_for
):
    settings.EXTRACTION_PROVIDER = "openai"
    settings.LLM_BASE_URL = fake_llm.base_url
    settings.LLM_API_KEY = "sk-test"
    settings.LLM_MODEL = "gpt-4o-mini"
    settings.LLM_TIMEOUT_SECONDS = 5
    # The fake model reads every sample as the first one.
    fake_llm.expect(
        {"tenant_name": "Maria Lopez", "monthly_rent": "1,250.00", "start_date": "01/03/2026"}
    )
    add_samples(admin_user, lease)
    job = Job.objects.create(
        kind=ACCURACY_JOB, label="x", arguments={"type_key": "lease", "version": 1}
    )
    type_accuracy_run(job_id=job.pk)
    job.refresh_from_db()
    assert job.status == Job.Status.SUCCEEDED, job.message
    assert (job.done, job.total) == (4, 4)
    local = {
        row["key"]: (row["right"], row["of"]) for row in job.result["readers"]["local"]["fields"]
    }
    assert local == {"tenant_name": (1, 2), "monthly_rent": (2, 2), "start_date": (2, 2)}
    llm = {
        row["key"]: (row["right"], row["of"]) for row in job.result["readers"]["openai"]["fields"]
    }
    assert llm == {"tenant_name": (1, 2), "monthly_rent": (1, 2), "start_date": (1, 2)}
    page = client_for(admin_user).get(reverse("type_accuracy", args=["lease"])).content.decode()
    assert 'data-reader="local"' in page and 'data-reader="openai"' in page
    assert "1 of 2" in page and "100 %" in page and "50 %" in page


@pytest.mark.worker
def test_the_accuracy_check_runs_on_a_real_worker_with_progress(
    start_worker, transactional_db, client_for, admin_user, lease
):
    add_samples(admin_user, lease)
    worker = start_worker()
    client = client_for(admin_user)
    response = client.post(reverse("type_accuracy", args=["lease"]), {"measure": "1"})
    assert response.status_code == 302
    job = Job.objects.get(kind=ACCURACY_JOB)

    def finished():
        job.refresh_from_db()
        return job.is_finished

    wait_for(finished, timeout=120, what="the accuracy check", worker=worker)
    assert job.status == Job.Status.SUCCEEDED, job.message
    assert (job.done, job.total) == (2, 2)
    fragment = client.get(reverse("type_accuracy_job", args=["lease"])).content.decode()
    assert 'data-field="monthly_rent"' in fragment and "2 of 2" in fragment


@pytest.mark.django_db
def test_defined_measured_enabled_then_an_applicants_lease_is_read_offline(
    client_for, admin_user, lease
):
    """Issue 12's "Done when", without code or a deploy: the type was defined in the app
    (the fixture, as the screen does), is inactive so uploads are not classified as it;
    once enabled, an untyped upload is classified by its keywords and read offline."""
    applicant = UserFactory(email="tenant@example.com")
    application = application_create(owner=applicant, stated_name="Maria Lopez")
    before = upload_and_read(application, lease_pdf(), name="my-lease.pdf")
    assert before.document_type is None or before.document_type.key != "lease"
    response = client_for(admin_user).post(
        reverse("type_edit", args=["lease"]), form_data(LEASE, based_on=1, is_active=True)
    )
    assert response.status_code == 302
    document = upload_and_read(application, lease_pdf(tenant="Ana Ruiz"), name="lease-2.pdf")
    assert document.document_type.key == "lease"
    values = {field.key: field.value for field in document.fields.all()}
    assert values == {
        "tenant_name": "Ana Ruiz",
        "monthly_rent": "1,250.00",
        "start_date": "2026-03-01",
    }
    run = document.runs.first()
    assert (run.provider, run.schema_version.split(".")[:2]) == ("local", ["lease", "v1"])
    # The version list says which version read how many documents.
    assert documents_per_version(document.document_type) == {1: 1}


@pytest.mark.django_db
def test_a_sensitive_answer_is_masked_on_the_screen_and_in_the_trail(client_for, admin_user):
    definition = {
        **LEASE,
        "key": "tenant_form",
        "fields": [
            *LEASE["fields"],
            {"key": "tenant_ssn", "label": "SSN", "kind": "ssn", "sensitive": True},
        ],
    }
    document_type, _ = document_type_save(actor=admin_user, data=definition, create=True)
    type_sample_add(
        actor=admin_user,
        document_type=document_type,
        data=lease_pdf(),
        filename="a.pdf",
        expected={**RIGHT, "tenant_ssn": "123-45-6789"},
    )
    event = AuditEvent.objects.get(action=Action.DOCUMENT_TYPE_SAMPLE_ADDED)
    assert event.data["expected"]["tenant_ssn"] == "***-**-6789"
    page = client_for(admin_user).get(reverse("type_accuracy", args=["tenant_form"]))
    assert "123-45-6789" not in page.content.decode()
    assert "***-**-6789" in page.content.decode()


@pytest.mark.django_db
def test_a_second_click_on_check_starts_no_second_job(client_for, admin_user, lease):
    add_samples(admin_user, lease)
    client = client_for(admin_user)
    url = reverse("type_accuracy", args=["lease"])
    client.post(url, {"measure": "1"})
    response = client.post(url, {"measure": "1"}, follow=True)
    assert "already running" in response.content.decode()
    assert Job.objects.filter(kind=ACCURACY_JOB).count() == 1


@pytest.mark.django_db(transaction=True)
def test_two_admins_starting_a_check_at_once_start_one(staff_groups):
    """The check-then-start was not under a lock: both clicks saw no running check."""
    for round_ in range(6):
        admin = AdminFactory(email=f"admin{round_}@example.com")
        document_type, _ = document_type_save(
            actor=admin, data={**LEASE, "key": f"lease{round_}"}, create=True
        )
        type_sample_add(
            actor=admin,
            document_type=document_type,
            data=lease_pdf(),
            filename="a.pdf",
            expected=RIGHT,
        )
        outcomes = race(
            lambda t=document_type, a=admin: type_accuracy_start(actor=a, document_type=t),
            lambda t=document_type, a=admin: type_accuracy_start(actor=a, document_type=t),
        )
        # The loser is told plainly (SampleRefused, the screen's message), never an error.
        kinds = sorted(
            "refused" if isinstance(value, SampleRefused) else kind for kind, value in outcomes
        )
        assert kinds == ["ok", "refused"], outcomes
        assert Job.objects.filter(arguments__type_key=document_type.key).count() == 1
        started = AuditEvent.objects.filter(
            action=Action.DOCUMENT_TYPE_ACCURACY_STARTED, data__key=document_type.key
        )
        assert [event.actor_id for event in started] == [admin.pk]


@pytest.mark.django_db(transaction=True)
def test_two_samples_added_at_once_never_pass_the_limit(staff_groups, monkeypatch):
    """The count-then-add is under the type's row lock: one of two samples sent at once at the
    last free place is refused plainly."""
    monkeypatch.setattr("evals.accuracy.MAX_SAMPLES", 2)
    for round_ in range(5):
        admin = AdminFactory(email=f"admin{round_}@example.com")
        document_type, _ = document_type_save(
            actor=admin, data={**LEASE, "key": f"lease{round_}"}, create=True
        )

        def add(t=document_type, a=admin, n=0):
            return type_sample_add(
                actor=a, document_type=t, data=lease_pdf(), filename=f"{n}.pdf", expected=RIGHT
            )

        add()
        outcomes = race(lambda: add(n=1), lambda: add(n=2))
        kinds = sorted(
            "refused" if isinstance(value, SampleRefused) else kind for kind, value in outcomes
        )
        assert kinds == ["ok", "refused"], outcomes
        assert TypeSample.objects.filter(document_type=document_type).count() == 2
