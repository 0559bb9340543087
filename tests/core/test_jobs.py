"""Background jobs: started after commit, watched by the person who started them only."""

from __future__ import annotations

import pytest

from core.jobs import job_fail, job_progress, job_running, job_start, job_succeed
from core.models import Job
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_a_job_is_sent_after_commit_and_reports_progress_until_it_succeeds(
    django_capture_on_commit_callbacks,
):
    sent = []
    with django_capture_on_commit_callbacks(execute=True):
        job = job_start(kind="backtest", label="Back-test", enqueue=sent.append)
        assert sent == []
    assert sent == [job.pk]

    job_running(job_id=job.pk, total=200)
    job_progress(job_id=job.pk, done=50)
    job.refresh_from_db()
    assert (job.status, job.done, job.total, job.percent) == ("running", 50, 200, 25)

    job_succeed(job_id=job.pk, result={"fired": 4}, message="4 of 200 applications would fire.")
    job.refresh_from_db()
    assert job.status == Job.Status.SUCCEEDED
    assert job.result == {"fired": 4}
    assert job.percent == 100
    assert job.finished_at is not None


def test_a_finished_job_is_never_reopened_or_overwritten():
    job = Job.objects.create(kind="verify", label="Verify")
    job_running(job_id=job.pk, total=10)
    job_fail(job_id=job.pk, message="Row 7 is broken.")
    assert job_running(job_id=job.pk, total=10) is None
    job_succeed(job_id=job.pk, result={"ok": True})
    job_progress(job_id=job.pk, done=10)
    job.refresh_from_db()
    assert (job.status, job.message, job.result, job.done) == ("failed", "Row 7 is broken.", {}, 0)


def test_a_job_whose_queue_is_unreachable_fails_with_a_plain_message(
    django_capture_on_commit_callbacks,
):
    def broker_down(job_id):
        raise ConnectionError("redis is down")

    with django_capture_on_commit_callbacks(execute=True):
        job = job_start(kind="verify", label="Verify", enqueue=broker_down)
    job.refresh_from_db()
    assert job.status == Job.Status.FAILED
    assert "task queue is not reachable" in job.message


def test_only_the_person_who_started_a_job_sees_its_progress(client):
    owner = UserFactory(email="owner@example.com")
    stranger = UserFactory(email="stranger@example.com")
    job = Job.objects.create(kind="verify", label="Verify the history", started_by=owner)
    job_running(job_id=job.pk, total=4)
    job_progress(job_id=job.pk, done=1)

    assert client.get(f"/jobs/{job.pk}/").status_code == 302  # to the sign-in page
    client.force_login(stranger)
    assert client.get(f"/jobs/{job.pk}/").status_code == 404
    client.force_login(owner)
    response = client.get(f"/jobs/{job.pk}/")
    assert response.status_code == 200
    assert b"1 of 4" in response.content
    assert b'hx-trigger="every 1s"' in response.content
