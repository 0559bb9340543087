"""Background work for the review screens."""

from __future__ import annotations

from celery import shared_task

from core.jobs import job_fail, job_progress, job_running, job_succeed
from extraction.verification import history_verify

VERIFY_JOB_KIND = "audit.verify"


@shared_task(name="review.verify_history")
def verify_history_task(job_id: int) -> None:
    """Run the full verification of the history for the job; the job's message says whether
    the whole history is intact or names the first broken row. A finished job is left alone."""
    if job_running(job_id=job_id) is None:
        return

    def progress(done: int, total: int) -> None:
        job_progress(job_id=job_id, done=done, total=total)

    try:
        report = history_verify(progress=progress)
    except Exception:
        job_fail(job_id=job_id, message="The verification stopped on an error; try again.")
        raise
    job_succeed(job_id=job_id, result=report.as_dict(), message=report.summary())
