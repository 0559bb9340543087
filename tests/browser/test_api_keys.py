"""The admin's API keys screen and the API's docs page in a browser: a key is created and
shown once, then revoked; the docs page renders under the Content-Security-Policy."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.test_flow import sign_in

pytestmark = [pytest.mark.django_db(transaction=True)]


def test_an_admin_creates_and_revokes_a_key(browser, live_server, users, screenshots, axe):
    context = browser.new_context(viewport={"width": 1366, "height": 900})
    page = context.new_page()
    sign_in(page, live_server.url, users["admin"].email)
    page.get_by_role("link", name="API", exact=True).first.click()
    expect(page.get_by_role("heading", name="API keys")).to_be_visible()
    page.fill("#id_name", "Lender portal")
    page.select_option("#id_user", label=users["reviewer"].email)
    page.get_by_label("Create applications and upload documents").check()
    page.get_by_role("button", name="Create key").click()
    secret = page.locator("#new-api-key")
    expect(secret).to_contain_text("attest_")
    axe(page, "API keys with a new key")
    screenshots(page, "api-keys-01-created")
    page.reload()
    expect(page.locator("#new-api-key")).to_have_count(0)
    page.get_by_role("button", name="Revoke").click()
    expect(page.get_by_text("Revoked").first).to_be_visible()
    screenshots(page, "api-keys-02-revoked")

    page.goto(f"{live_server.url}/api/v1/docs")
    expect(page.get_by_text("Create an application").first).to_be_visible(timeout=20_000)
    screenshots(page, "api-docs")
    context.close()
