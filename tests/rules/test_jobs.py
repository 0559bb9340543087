"""Re-checking open applications and back-testing run in a real Celery worker, with progress."""

from __future__ import annotations

import pytest
from django.urls import reverse

from applications.models import Application
from core.models import Job
from rules.evaluation import RuleSpec
from rules.jobs import rule_backtest_start
from rules.models import Flag, Rule
from rules.services import rule_create, rule_disable, rule_update, rules_sync
from tests.waiting import wait_for

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

BIG_NET = {
    "key": "big_net",
    "title": "Big net pay",
    "expression": "doc.values.net_pay != null && doc.values.net_pay > 2500.0",
    "severity": "high",
    "scope": "pay_stub",
    "message": "Net pay {{ money(doc.values.net_pay) }}.",
    "link_field": "net_pay",
}


def finished(job_id: int, worker) -> Job:
    def done():
        job = Job.objects.get(pk=job_id)
        return job if job.is_finished else None

    return wait_for(done, what=f"job {job_id}", worker=worker)


def big_net_flags(application) -> list[str]:
    return list(application.flags.filter(rule_key="big_net").values_list("status", flat=True))


def test_enabling_or_changing_a_rule_rechecks_open_applications_only(
    staff_groups, build, admin_user, celery_worker_process, client_for
):
    rules_sync()
    fires, _ = build({"pay_stub": {"net_pay": "2,700.00", "total_deductions": "0.00"}})
    quiet, _ = build()
    decided, _ = build({"pay_stub": {"net_pay": "2,700.00", "total_deductions": "0.00"}})
    Application.objects.filter(pk=decided.pk).update(status=Application.Status.APPROVED)

    rule_create(actor=admin_user, enabled=False, **BIG_NET)
    assert not Job.objects.exists()  # a disabled new rule changes nothing
    rule = Rule.objects.get(key="big_net")
    rule_update(rule=rule, actor=admin_user, enabled=True, note="Back-tested.")
    job = finished(Job.objects.get(kind="rule_reevaluate").pk, celery_worker_process)
    assert job.status == Job.Status.SUCCEEDED, job.message
    assert job.result == {"checked": 2, "flagged": 1}
    assert (job.done, job.total) == (2, 2)
    assert big_net_flags(fires) == ["open"]
    assert big_net_flags(quiet) == []
    assert big_net_flags(decided) == []  # a decided application never changes

    # The rule's page shows the re-check and its outcome.
    page = client_for(admin_user).get(reverse("rule_edit", args=["big_net"])).content.decode()
    assert "Re-checked 2 open applications: 1 carry this rule&#x27;s flag." in page

    # A change that no longer fires resolves the flag; disabling is re-checked too.
    rule_update(rule=rule, actor=admin_user, expression=BIG_NET["expression"] + " && false")
    finished(Job.objects.filter(kind="rule_reevaluate").first().pk, celery_worker_process)
    assert big_net_flags(fires) == ["resolved"]
    rule_update(rule=rule, actor=admin_user, expression=BIG_NET["expression"])
    finished(Job.objects.filter(kind="rule_reevaluate").first().pk, celery_worker_process)
    assert big_net_flags(fires) == ["open"]
    rule_disable(rule=rule, actor=admin_user)
    finished(Job.objects.filter(kind="rule_reevaluate").first().pk, celery_worker_process)
    flag = Flag.objects.get(application=fires, rule_key="big_net")
    assert (flag.status, flag.note) == ("resolved", "Resolved because the rule was disabled.")
    assert Job.objects.filter(kind="rule_reevaluate", status="succeeded").count() == 4


def test_a_backtest_runs_in_the_worker_and_reports_what_the_draft_would_flag(
    staff_groups, build, admin_user, celery_worker_process, client_for
):
    fires, _ = build({"pay_stub": {"net_pay": "2,700.00", "total_deductions": "0.00"}})
    for _ in range(3):
        build()
    client = client_for(admin_user)
    response = client.post(
        reverse("rule_create"),
        {**BIG_NET, "note": "", "limit": "100", "backtest": ""},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    job = finished(Job.objects.get(kind="rule_backtest").pk, celery_worker_process)
    assert job.status == Job.Status.SUCCEEDED, job.message
    assert (job.result["checked"], job.result["flagged"], job.result["failed"]) == (4, 1, 0)
    assert job.result["hits"] == [{"reference": fires.reference, "messages": ["Net pay 2,700.00."]}]
    assert (job.done, job.total) == (4, 4)
    assert not Flag.objects.filter(rule_key="big_net").exists()  # a draft raises nothing

    page = client.get(reverse("rule_job", args=[job.pk])).content.decode()
    assert fires.reference in page and "would flag 1" in page
    assert "hx-trigger" not in page  # finished: the fragment stops polling


def test_a_backtest_of_a_rule_that_fails_reports_its_failures(
    staff_groups, build, admin_user, celery_worker_process
):
    build({"pay_stub": {"total_deductions": ""}})
    spec = RuleSpec(
        key="draft",
        title="Deductions",
        expression="doc.values.total_deductions > 1.0",
        severity="low",
        scope="pay_stub",
        message="x",
    )
    job = rule_backtest_start(spec=spec, limit=100, actor=admin_user)
    job = finished(job.pk, celery_worker_process)
    assert job.result["failed"] == 1 and job.result["errors"][0]["error"]
    assert "fails on 1" in job.message
