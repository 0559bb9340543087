"""Reads of the rule engine: rules for the admin screens, trying a draft, back-testing it.

Trying and back-testing evaluate a draft without writing anything: no flag is raised.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from django.db.models import Count, Q, QuerySet
from django.shortcuts import get_object_or_404

from applications.models import Application
from core.models import Job

from .context import context_build, contexts_build
from .evaluation import Finding, RuleSpec, findings_evaluate, spec_needs
from .models import RULE_ERROR_PREFIX, Flag, Rule, RuleError

REEVALUATE_JOB = "rule_reevaluate"
BACKTEST_JOB = "rule_backtest"
RULE_JOBS = (REEVALUATE_JOB, BACKTEST_JOB)

BACKTEST_BATCH = 500


def rule_list() -> QuerySet[Rule]:
    """Every rule with its current version, its open flags, and its current version's
    run-time failures (``errors``, 0 when it never failed)."""
    open_flags = Q(versions__flags__status=Flag.Status.OPEN)
    is_error = Q(versions__flags__rule_key__startswith=RULE_ERROR_PREFIX)
    return (
        Rule.objects.select_related("current", "current__author", "current__run_error")
        .annotate(open_flags=Count("versions__flags", filter=open_flags & ~is_error))
        .order_by("key")
    )


def rule_get(*, key: str) -> Rule:
    return get_object_or_404(Rule.objects.select_related("current"), key=key)


def rule_versions(*, rule: Rule) -> QuerySet:
    return rule.versions.select_related("author").order_by("-number")


def rule_errors(*, rule: Rule | None = None) -> QuerySet[RuleError]:
    """Run-time failures per rule version, the most recently seen first (one rule's, or all)."""
    errors = RuleError.objects.select_related(
        "version", "version__rule", "version__rule__current", "last_application"
    ).order_by("-last_seen_at", "-pk")
    return errors.filter(version__rule=rule) if rule is not None else errors


def rule_jobs(*, rule: Rule) -> QuerySet[Job]:
    """The re-check jobs of a rule, newest first."""
    return Job.objects.filter(kind=REEVALUATE_JOB, arguments__rule=rule.key).order_by(
        "-created_at", "-pk"
    )


def rule_job_get(*, job_id: int) -> Job:
    """A rule engine job, for any admin (rule screens are admin-only); 404 for other jobs."""
    return get_object_or_404(Job, pk=job_id, kind__in=RULE_JOBS)


def application_find(*, reference: str):
    """An application by its reference, for staff who may see every application; or None."""
    return Application.objects.filter(reference__iexact=reference.strip()).first()


def rule_try(*, spec: RuleSpec, application) -> list[Finding]:
    """What the draft would flag on one application now (errors come back as findings)."""
    return findings_evaluate([spec], context_build(application))


@dataclass
class BacktestHit:
    application_id: int
    reference: str
    findings: list[Finding]


@dataclass
class BacktestResult:
    checked: int = 0
    flagged: int = 0
    failed: int = 0
    hits: list[BacktestHit] = field(default_factory=list)
    errors: list[BacktestHit] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def rate(self) -> float:
        return self.flagged / self.checked if self.checked else 0.0


def rule_backtest(
    *,
    spec: RuleSpec,
    limit: int = 500,
    keep: int = 200,
    progress: Callable[[int, int], None] | None = None,
) -> BacktestResult:
    """Run a draft over the latest ``limit`` applications: how many it flags, and which
    (the first ``keep`` of them). Applications are read in batches of fixed query count;
    ``progress(done, total)`` is called after each batch. Slow for thousands: run it in a
    worker (``rules.jobs.rule_backtest_start``), never in a request."""
    started = time.perf_counter()
    result = BacktestResult()
    ids = list(
        Application.objects.order_by("-created_at", "-pk").values_list("pk", flat=True)[:limit]
    )
    needs = spec_needs([spec])
    for start in range(0, len(ids), BACKTEST_BATCH):
        batch = Application.objects.filter(pk__in=ids[start : start + BACKTEST_BATCH])
        for context in contexts_build(batch, **needs):
            result.checked += 1
            findings = findings_evaluate([spec], context)
            if not findings:
                continue
            hit = BacktestHit(context.application_id, context.reference, findings)
            if findings[0].is_rule_error:
                result.failed += 1
                bucket = result.errors
            else:
                result.flagged += 1
                bucket = result.hits
            # Past the kept examples only the counts grow.
            if len(bucket) < keep:
                bucket.append(hit)
        if progress is not None:
            progress(result.checked, len(ids))
    result.seconds = time.perf_counter() - started
    return result
