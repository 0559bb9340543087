"""The rule editor in a browser: type mistakes named as they are typed, back-tests in a worker."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from rules.services import rules_sync
from tests.browser.test_flow import sign_in
from tests.rules.conftest import consistent_values

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def test_an_admin_sees_a_misspelt_key_named_and_back_tests_in_the_background(
    browser, live_server, users, shipped_types, celery_worker_process, screenshots, axe
):
    from applications.services import application_create
    from tests.builders import document_with_fields

    rules_sync()
    for net in ("2,700.00", "1,987.60"):
        application = application_create(owner=users["applicant"], stated_name="Jordan Rivera")
        values = {**consistent_values()["pay_stub"], "net_pay": net, "total_deductions": "0.00"}
        document_with_fields(application, shipped_types["pay_stub"], values)

    context = browser.new_context(viewport={"width": 1366, "height": 900})
    page = context.new_page()
    sign_in(page, live_server.url, users["admin"].email)
    page.goto(f"{live_server.url}/rules/new/")
    page.fill("#id_key", "big_net")
    page.fill("#id_title", "Big net pay")
    page.select_option("#id_scope", "pay_stub")
    page.fill("#id_message", "Net pay {{ money(doc.values.net_pay) }}.")
    page.locator("#id_expression").type("doc.values.gros_pay > 2000.0")
    check = page.locator("#expression-check")
    expect(check).to_contain_text("line 1, column 12")
    expect(check).to_contain_text("did you mean gross_pay?")
    axe(page, "rule editor with a type error")
    screenshots(page, "rules-01-type-error")

    page.fill("#id_expression", "")
    page.locator("#id_expression").type("doc.values.net_pay > 2500.0")
    expect(check).to_contain_text("The expression is valid")
    page.get_by_role("button", name="Back-test").click()
    result = page.locator("#backtest-result")
    expect(result).to_contain_text("would flag 1", timeout=60_000)
    expect(result).to_contain_text("Net pay 2,700.00.")
    screenshots(page, "rules-02-backtest-done")

    page.goto(f"{live_server.url}/rules/health/")
    expect(page.get_by_role("heading", name="Rule health")).to_be_visible()
    axe(page, "rule health")
    context.close()
