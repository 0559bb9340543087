"""Reads of the rule engine: rules for the admin screens, trying a draft, back-testing it.

Trying and back-testing evaluate a draft without writing anything: no flag is raised.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from django.db.models import Count, Q, QuerySet
from django.shortcuts import get_object_or_404

from applications.models import Application

from .context import context_build, contexts_build
from .evaluation import Finding, RuleSpec, findings_evaluate
from .models import RULE_ERROR_PREFIX, Flag, Rule

BACKTEST_BATCH = 500


def rule_list() -> QuerySet[Rule]:
    """Every rule with its current version and how many open flags and errors it has."""
    open_flags = Q(versions__flags__status=Flag.Status.OPEN)
    is_error = Q(versions__flags__rule_key__startswith=RULE_ERROR_PREFIX)
    return (
        Rule.objects.select_related("current", "current__author")
        .annotate(
            open_flags=Count("versions__flags", filter=open_flags & ~is_error),
            open_errors=Count("versions__flags", filter=open_flags & is_error),
        )
        .order_by("key")
    )


def rule_get(*, key: str) -> Rule:
    return get_object_or_404(Rule.objects.select_related("current"), key=key)


def rule_versions(*, rule: Rule) -> QuerySet:
    return rule.versions.select_related("author").order_by("-number")


def rule_error_flags(*, rule: Rule) -> QuerySet[Flag]:
    return (
        Flag.objects.filter(rule_key=f"{RULE_ERROR_PREFIX}{rule.key}", status=Flag.Status.OPEN)
        .select_related("application")
        .order_by("-created_at")
    )


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


def _needs(spec: RuleSpec) -> dict:
    # Loading page text and people's revisions is most of a context's cost; a rule that
    # mentions neither does not pay for them.
    source = f"{spec.expression} {spec.message}"
    return {
        "text": "text" in source or "ai_phrases" in source,
        "people": "changed_by" in source,
        "files": "same_file_elsewhere" in source,
    }


def rule_backtest(*, spec: RuleSpec, limit: int = 500, keep: int = 200) -> BacktestResult:
    """Run a draft over the latest ``limit`` applications: how many it flags, and which
    (the first ``keep`` of them). Applications are read in batches of fixed query count."""
    started = time.perf_counter()
    result = BacktestResult()
    ids = list(
        Application.objects.order_by("-created_at", "-pk").values_list("pk", flat=True)[:limit]
    )
    needs = _needs(spec)
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
    result.seconds = time.perf_counter() - started
    return result
