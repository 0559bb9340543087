"""Thin Celery tasks of the rule engine: a job id in, one call to ``rules.jobs``."""

from __future__ import annotations

from celery import shared_task

from .jobs import BACKTEST_TASK, rule_backtest_run, rule_reevaluate_run
from .services import REEVALUATE_TASK


@shared_task(name=REEVALUATE_TASK, acks_late=True, reject_on_worker_lost=True)
def reevaluate_open_applications(job_id: int) -> None:
    rule_reevaluate_run(job_id=job_id)


@shared_task(name=BACKTEST_TASK, acks_late=True, reject_on_worker_lost=True)
def backtest(job_id: int) -> None:
    rule_backtest_run(job_id=job_id)
