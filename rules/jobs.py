"""The rule engine's background jobs: re-checking open applications and back-testing a draft.

Each runs in a Celery worker (``rules.tasks``), reports progress on its ``core.models.Job`` row
and ends with a JSON result the rule screens show. Neither runs inside a web request.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import asdict

from django.db.models import F

from applications.models import Application
from core.jobs import job_fail, job_progress, job_running, job_start, job_succeed
from core.models import Job

from .context import contexts_build
from .evaluation import RuleSpec, findings_evaluate, spec_needs
from .models import Flag, RuleVersion
from .selectors import BACKTEST_JOB, rule_backtest
from .services import enqueue_by_name, flags_refresh

logger = logging.getLogger(__name__)

BACKTEST_TASK = "rules.backtest"
# Examples a back-test result keeps for the screen; past them only the counts grow.
BACKTEST_KEEP = 50
DECIDED = (Application.Status.APPROVED, Application.Status.REJECTED)
RECHECK_BATCH = 200


def rule_backtest_start(*, spec: RuleSpec, limit: int, actor) -> Job:
    """Queue a back-test of the draft over the latest ``limit`` applications."""
    return job_start(
        kind=BACKTEST_JOB,
        label=f"Back-test of {spec.key} over the latest {limit:,} applications",
        started_by=actor,
        arguments={"spec": asdict(spec), "limit": limit},
        enqueue=enqueue_by_name(BACKTEST_TASK),
    )


def rule_backtest_run(*, job_id: int) -> None:
    """The body of a back-test job; idempotent (a finished or missing job is left alone)."""
    job = job_running(job_id=job_id)
    if job is None:
        return
    try:
        spec = RuleSpec(**job.arguments["spec"])
        result = rule_backtest(
            spec=spec,
            limit=int(job.arguments["limit"]),
            keep=BACKTEST_KEEP,
            progress=lambda done, total: job_progress(job_id=job_id, done=done, total=total),
        )
    except Exception:
        logger.exception("Back-test job %s failed", job_id)
        job_fail(job_id=job_id, message="The back-test stopped on an unexpected error.")
        return
    job_succeed(
        job_id=job_id,
        result={
            "checked": result.checked,
            "flagged": result.flagged,
            "failed": result.failed,
            "seconds": round(result.seconds, 2),
            "hits": [
                {"reference": hit.reference, "messages": [f.message for f in hit.findings]}
                for hit in result.hits
            ],
            "errors": [
                {"reference": hit.reference, "error": hit.findings[0].values.get("error", "")}
                for hit in result.errors[:5]
            ],
        },
        message=(
            f"Checked {result.checked:,} applications: the draft would flag {result.flagged:,}"
            + (f" and fails on {result.failed:,}." if result.failed else ".")
        ),
    )


def _current_specs(key: str) -> list[RuleSpec]:
    version = RuleVersion.objects.filter(rule__current=F("pk"), rule__key=key).first()
    return [RuleSpec.from_version(version)] if version is not None and version.enabled else []


def _stale(application_ids: list[int], key: str, specs: list[RuleSpec]) -> list[int]:
    """Of these applications, those whose flags of the rule would change: evaluated in one
    batch without locks (a fixed number of queries), so that only those are written."""
    flags = defaultdict(dict)
    for flag in Flag.objects.filter(application_id__in=application_ids, rule_key=key).values(
        "application_id", "document_id", "field_id", "status", "message"
    ):
        identity = (key, flag["document_id"], flag["field_id"])
        flags[flag["application_id"]][identity] = flag
    applications = Application.objects.filter(pk__in=application_ids).exclude(status__in=DECIDED)
    stale = []
    for context in contexts_build(applications, **spec_needs(specs)) if specs else []:
        found = findings_evaluate(specs, context)
        held = flags.pop(context.application_id, {})
        if any(finding.is_rule_error for finding in found):
            stale.append(context.application_id)  # recorded for admins by flags_refresh
            continue
        new = {finding.identity: finding for finding in found}
        changed = any(
            identity not in held
            or held[identity]["status"] == Flag.Status.RESOLVED
            or (
                held[identity]["status"] == Flag.Status.OPEN
                and held[identity]["message"] != f.message
            )
            for identity, f in new.items()
        ) or any(
            flag["status"] == Flag.Status.OPEN and identity not in new
            for identity, flag in held.items()
        )
        if changed:
            stale.append(context.application_id)
    # Applications not evaluated (no spec: the rule is disabled) keep only open flags to resolve.
    stale.extend(
        application_id
        for application_id, held in flags.items()
        if any(flag["status"] == Flag.Status.OPEN for flag in held.values())
    )
    return sorted(set(stale))


def rule_reevaluate_run(*, job_id: int) -> None:
    """The body of a re-check job: every undecided application's flags of one rule follow its
    current version. Idempotent; an application decided meanwhile is skipped.

    Applications are evaluated in batches without locks; only those whose flags would change
    go through ``flags_refresh`` (row lock, evaluated again, written), so a rule that changes
    little costs little and a concurrent edit of values is never overwritten.
    """
    job = job_running(job_id=job_id)
    if job is None:
        return
    key = job.arguments["rule"]
    ids = list(
        Application.objects.exclude(status__in=DECIDED).order_by("pk").values_list("pk", flat=True)
    )
    job_progress(job_id=job_id, done=0, total=len(ids))
    specs = _current_specs(key)
    try:
        for start in range(0, len(ids), RECHECK_BATCH):
            batch = ids[start : start + RECHECK_BATCH]
            for application_id in _stale(batch, key, specs):
                application = Application.objects.filter(pk=application_id).first()
                if application is not None and application.status not in DECIDED:
                    flags_refresh(application=application, rule_key=key)
            job_progress(job_id=job_id, done=start + len(batch))
    except Exception:
        logger.exception("Re-check job %s failed", job_id)
        job_fail(job_id=job_id, message="The re-check stopped on an unexpected error.")
        return
    flagged = (
        Flag.objects.filter(rule_key=key, status=Flag.Status.OPEN, application_id__in=ids)
        .values("application_id")
        .distinct()
        .count()
    )
    job_succeed(
        job_id=job_id,
        result={"checked": len(ids), "flagged": flagged},
        message=f"Re-checked {len(ids):,} open applications: {flagged:,} carry this rule's flag.",
    )
