"""The admin's "Verify the whole history" runs on a real Celery worker against a real Redis and
reports on the whole history, not on a page of it."""

from __future__ import annotations

import pytest
from django.urls import reverse

from accounts.models import ADMINS_GROUP
from core.models import Job
from extraction.models import Field
from tests.factories import FieldFactory, UserFactory
from tests.waiting import wait_for

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def _finished_job(client, worker) -> Job:
    assert client.post(reverse("history_verify")).status_code == 302
    job = Job.objects.filter(kind="audit.verify").order_by("-pk").first()

    def finished():
        job.refresh_from_db()
        return job.is_finished

    wait_for(finished, timeout=90, what="the verification job", worker=worker)
    return job


def test_the_full_verification_runs_as_a_job_on_a_real_worker(
    start_worker, staff_groups, client_for, settings, tmp_path
):
    seal = tmp_path / "seal.log"
    settings.AUDIT_SEAL_PATH = seal
    worker = start_worker(AUDIT_SEAL_PATH=str(seal))
    admin = UserFactory(email="auditor@example.com", is_staff=True)
    admin.groups.add(staff_groups[ADMINS_GROUP])
    fields = [FieldFactory() for _ in range(3)]  # each commits, and seals its event
    client = client_for(admin)

    job = _finished_job(client, worker)
    assert job.status == Job.Status.SUCCEEDED, job.message
    assert job.result["ok"] and job.result["events"] == 3 and job.result["fields"] == 3
    fragment = client.get(reverse("job_status", args=[job.pk])).content.decode()
    assert "The whole history is intact" in fragment

    Field.objects.filter(pk=fields[-1].pk).update(value="forged")
    job = _finished_job(client, worker)
    assert not job.result["ok"]
    assert f"First broken row: extraction_field id={fields[-1].pk}" in job.message
    page = client.get(reverse("revision_history")).content.decode()
    assert f"extraction_field id={fields[-1].pk}" in page
