"""The rule screens: admins only, the expression checked as it is typed, try and back-test."""

from __future__ import annotations

import pytest
from django.urls import reverse

from core.models import Job
from rules.models import Rule
from rules.services import flags_refresh, rules_sync

pytestmark = pytest.mark.django_db

DRAFT = {
    "key": "big_net",
    "title": "Big net pay",
    "description": "",
    "severity": "high",
    "scope": "pay_stub",
    "expression": "doc.values.net_pay > 1000.0",
    "message": "Net pay {{ money(doc.values.net_pay) }}.",
    "link_field": "net_pay",
    "note": "",
}


@pytest.mark.parametrize("who", ["applicant", "reviewer"])
@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("get", reverse("rule_list")),
        ("get", reverse("rule_create")),
        ("get", reverse("rule_edit", args=["money_changed"])),
        ("post", reverse("rule_create")),
        ("post", reverse("rule_check")),
        ("get", reverse("rule_health")),
        ("get", reverse("rule_job", args=[1])),
    ],
)
def test_only_admins_reach_the_rule_screens(
    client_for, applicant, reviewer, shipped_types, who, method, url
):
    rules_sync()
    client = client_for(applicant if who == "applicant" else reviewer)
    response = getattr(client, method)(url, DRAFT if method == "post" else None)
    assert response.status_code == 403
    assert not Rule.objects.filter(key="big_net").exists()


def test_an_admin_sees_the_pack_listed(client_for, admin_user, shipped_types):
    rules_sync()
    page = client_for(admin_user).get(reverse("rule_list")).content.decode()
    assert "Amount changed from the machine" in page and "v1" in page


def test_the_check_endpoint_shows_the_error_at_its_position(client_for, admin_user):
    response = client_for(admin_user).post(
        reverse("rule_check"), {"expression": "doc.values.net_pay >", "scope": "pay_stub"}
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert "line 1, column 21" in page
    assert "doc.values.net_pay &gt;\n" + " " * 20 + "^" in page


def test_the_check_endpoint_accepts_a_valid_expression(client_for, admin_user, shipped_types):
    response = client_for(admin_user).post(
        reverse("rule_check"), {"expression": DRAFT["expression"], "scope": "pay_stub"}
    )
    assert "The expression is valid" in response.content.decode()
    assert "On sample data" not in response.content.decode()


def test_the_check_endpoint_names_an_unknown_key_its_position_and_the_nearest_known_key(
    client_for, admin_user, shipped_types
):
    response = client_for(admin_user).post(
        reverse("rule_check"), {"expression": "doc.values.gros_pay > 2000.0", "scope": "pay_stub"}
    )
    page = response.content.decode()
    assert "line 1, column 12: doc.values has no key gros_pay; did you mean gross_pay?" in page
    assert "The expression is valid" not in page


def test_saving_a_rule_with_an_unknown_key_or_no_boolean_is_refused_with_a_plain_message(
    client_for, admin_user, shipped_types
):
    client = client_for(admin_user)
    response = client.post(
        reverse("rule_create"),
        {**DRAFT, "expression": "doc.values.gros_pay > 2000.0", "save": ""},
    )
    assert "did you mean gross_pay?" in response.content.decode()
    response = client.post(
        reverse("rule_create"), {**DRAFT, "expression": "doc.values.net_pay", "save": ""}
    )
    assert "A rule must give true or false" in response.content.decode()
    assert not Rule.objects.filter(key="big_net").exists()


def test_an_admin_creates_edits_and_disables_a_rule(client_for, admin_user, shipped_types):
    client = client_for(admin_user)
    response = client.post(reverse("rule_create"), {**DRAFT, "save": ""})
    assert response.status_code == 302
    rule = Rule.objects.get(key="big_net")
    assert rule.current.number == 1 and rule.current.author == admin_user
    assert not rule.current.enabled

    edit = reverse("rule_edit", args=["big_net"])
    client.post(edit, {**DRAFT, "enabled": "on", "note": "Back-tested.", "save": ""})
    client.post(edit, {"disable": ""})
    rule.refresh_from_db()
    assert [v.enabled for v in rule.versions.order_by("number")] == [False, True, False]
    assert rule.current.number == 3


def test_saving_a_broken_expression_keeps_the_form_and_shows_where(
    client_for, admin_user, shipped_types
):
    response = client_for(admin_user).post(
        reverse("rule_create"), {**DRAFT, "expression": "doc.values.net_pay >", "save": ""}
    )
    assert response.status_code == 200
    assert "line 1, column 21" in response.content.decode()
    assert not Rule.objects.filter(key="big_net").exists()


def test_try_and_backtest_show_what_a_draft_would_flag(client_for, admin_user, build):
    application, _ = build()
    build({"pay_stub": {"net_pay": "900.00", "total_deductions": "1,700.00"}})
    client = client_for(admin_user)
    tried = client.post(
        reverse("rule_create"), {**DRAFT, "reference": application.reference, "try": ""}
    ).content.decode()
    assert "Net pay 1,987.60." in tried
    response = client.post(
        reverse("rule_create"),
        {**DRAFT, "limit": "100", "backtest": ""},
        HTTP_HX_REQUEST="true",
    )
    page = response.content.decode()
    assert "<html" not in page
    # The back-test runs in a worker (tests/rules/test_jobs.py); the page polls its progress.
    job = Job.objects.get(kind="rule_backtest")
    assert reverse("rule_job", args=[job.pk]) in page and 'hx-trigger="every 1s"' in page
    assert job.arguments["limit"] == 100
    assert job.arguments["spec"]["expression"] == DRAFT["expression"]
    assert not Rule.objects.filter(key="big_net").exists()


def test_run_time_errors_show_on_the_rule_page_the_list_and_the_health_view(
    client_for, admin_user, build, django_capture_on_commit_callbacks
):
    application, _ = build({"pay_stub": {"total_deductions": ""}})
    rules_sync()
    client = client_for(admin_user)
    client.post(
        reverse("rule_create"),
        {**DRAFT, "expression": "doc.values.total_deductions > 1.0", "enabled": "on", "save": ""},
    )
    with django_capture_on_commit_callbacks(execute=True):
        flags_refresh(application=application)
        flags_refresh(application=application)

    page = client.get(reverse("rule_edit", args=["big_net"])).content.decode()
    assert "This rule failed at run time" in page
    assert application.reference in page and "“pay_stub.pdf”" in page
    listed = client.get(reverse("rule_list")).content.decode()
    assert reverse("rule_health") in listed
    health = client.get(reverse("rule_health")).content.decode()
    assert "Big net pay" in health and "(current)" in health
    assert "<td>2</td>" in health  # two failed runs

    # Applicants never see it: no flag was raised.
    detail = client_for(application.owner).get(reverse("application_detail", args=[application.pk]))
    assert "Big net pay" not in detail.content.decode()


def test_a_rule_job_is_shown_to_admins_only_and_other_jobs_are_not_found(
    client_for, admin_user, shipped_types
):
    backtest = Job.objects.create(kind="rule_backtest", label="Back-test of big_net")
    other = Job.objects.create(kind="verify_history", label="Verify")
    client = client_for(admin_user)
    assert (
        "Back-test of big_net"
        in client.get(reverse("rule_job", args=[backtest.pk])).content.decode()
    )
    assert client.get(reverse("rule_job", args=[other.pk])).status_code == 404
