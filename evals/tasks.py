"""Thin Celery tasks of evals: a job id in, one call to ``evals.accuracy``."""

from __future__ import annotations

from celery import shared_task

from .accuracy import ACCURACY_TASK, type_accuracy_run


@shared_task(name=ACCURACY_TASK, acks_late=True, reject_on_worker_lost=True)
def type_accuracy(job_id: int) -> None:
    type_accuracy_run(job_id=job_id)
