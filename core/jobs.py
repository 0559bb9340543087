"""Writes on background jobs: start one, report progress from the worker, finish it.

A job's task receives the job's id, calls ``job_running``, reports with ``job_progress`` (a plain
UPDATE, cheap enough to call every batch), and ends with ``job_succeed`` or ``job_fail``. The
screens poll ``core.views.job_status``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db import transaction
from django.utils import timezone

from .models import Job


def job_start(
    *,
    kind: str,
    label: str,
    started_by=None,
    arguments: dict[str, Any] | None = None,
    enqueue: Callable[[int], Any],
) -> Job:
    """Create the job row and hand its id to ``enqueue`` (for example ``task.delay``) once the
    row is committed. If the broker cannot be reached the job fails at once with a plain
    message, rather than waiting forever."""
    job = Job.objects.create(
        kind=kind, label=label, started_by=started_by, arguments=arguments or {}
    )

    def send() -> None:
        try:
            enqueue(job.pk)
        except Exception:
            job_fail(
                job_id=job.pk,
                message="The job could not be started: the task queue is not reachable. "
                "Try again in a minute.",
            )

    transaction.on_commit(send)
    return job


def job_running(*, job_id: int, total: int = 0) -> Job | None:
    """Mark the job as running; None when it does not exist or has already finished."""
    with transaction.atomic():
        job = Job.objects.select_for_update().filter(pk=job_id).first()
        if job is None or job.is_finished:
            return None
        job.move_to(Job.Status.RUNNING)
        job.total = total
        job.save(update_fields=["status", "total", "updated_at"])
    return job


def job_progress(*, job_id: int, done: int, total: int | None = None, message: str = "") -> None:
    changes: dict[str, Any] = {"done": done, "updated_at": timezone.now()}
    if total is not None:
        changes["total"] = total
    if message:
        changes["message"] = message
    Job.objects.filter(pk=job_id, status=Job.Status.RUNNING).update(**changes)


def _finish(job_id: int, status: str, *, message: str, result: dict | None) -> Job | None:
    with transaction.atomic():
        job = Job.objects.select_for_update().filter(pk=job_id).first()
        if job is None or job.is_finished:
            return job
        job.move_to(status)
        job.message = message
        job.result = result or {}
        if status == Job.Status.SUCCEEDED:
            job.done = max(job.done, job.total)
        job.finished_at = timezone.now()
        job.save()
    return job


def job_succeed(*, job_id: int, result: dict | None = None, message: str = "") -> Job | None:
    return _finish(job_id, Job.Status.SUCCEEDED, message=message, result=result)


def job_fail(*, job_id: int, message: str, result: dict | None = None) -> Job | None:
    return _finish(job_id, Job.Status.FAILED, message=message, result=result)
