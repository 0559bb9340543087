"""The document type editor in a browser: a new type defined as rows, a wrong rule named at its
row, a preview on a sample with its boxes on the page, then saved as version 1."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from extraction.models import Document, DocumentType
from tests.browser.test_flow import sign_in
from tests.types.samples import lease_pdf

pytestmark = pytest.mark.django_db(transaction=True)


def test_an_admin_defines_a_type_previews_it_and_saves_it(
    browser, live_server, users, shipped_types, screenshots, axe, tmp_path
):
    sample = tmp_path / "lease.pdf"
    sample.write_bytes(lease_pdf())
    context = browser.new_context(viewport={"width": 1366, "height": 900})
    page = context.new_page()
    sign_in(page, live_server.url, users["admin"].email)
    page.goto(f"{live_server.url}/types/")
    page.get_by_role("link", name="New document type").click()
    page.fill("#id_key", "lease")
    page.fill("#id_label", "Lease")
    page.select_option("#id_date_order", "DMY")
    page.fill("#id_languages", "en")
    page.fill("#id_keywords-0-phrase", "Lease agreement")
    page.fill("#id_keywords-0-weight", "3")
    page.fill("#id_fields-0-key", "tenant_name")
    page.fill("#id_fields-0-label", "Tenant")
    page.select_option("#id_fields-0-kind", "name")
    page.fill("#id_fields-0-read", "- labels: {en: [Tenant]}")
    page.get_by_role("button", name="Add a field row").click()
    page.fill("#id_fields-1-key", "monthly_rent")
    page.fill("#id_fields-1-label", "Monthly rent")
    page.select_option("#id_fields-1-kind", "money")
    # A misspelt setting in the second row's rules.
    page.fill("#id_fields-1-read", "- labels: {en: [Monthly rent]}\n  exclud: [Rent deposit]")
    page.get_by_role("button", name="Create the type").click()
    row = page.locator("#field-row-2")
    expect(row).to_contain_text("exclud: is not a known setting (check its spelling)")
    expect(page.locator("#field-row-1 .field-error")).to_have_count(0)
    assert not DocumentType.objects.filter(key="lease").exists()
    axe(page, "type editor with an error at a row")
    screenshots(page, "types-01-error-at-row")

    page.fill("#id_fields-1-read", "- labels: {en: [Monthly rent]}\n  exclude: [Rent deposit]")
    page.set_input_files("#id_sample", str(sample))
    page.get_by_role("button", name="Preview").click()
    result = page.locator("#preview-result")
    expect(result.locator("#preview-local-tenant_name")).to_contain_text("Maria Lopez")
    expect(result.locator("#preview-local-monthly_rent")).to_contain_text("1,250.00")
    expect(result.locator(".evidence-box.is-placed")).to_have_count(2)
    assert not DocumentType.objects.filter(key="lease").exists()
    assert Document.objects.count() == 0
    axe(page, "type preview")
    screenshots(page, "types-02-preview")

    page.get_by_role("button", name="Create the type").click()
    expect(page.locator(".notice")).to_contain_text("Saved as version 1")
    lease = DocumentType.objects.get(key="lease")
    assert (lease.version, lease.is_active) == (1, False)
    assert [spec["key"] for spec in lease.fields] == ["tenant_name", "monthly_rent"]
    expect(page.get_by_role("link", name="v1")).to_be_visible()
    page.get_by_role("link", name="v1").click()
    expect(page.locator(".type-diff")).to_contain_text("key: monthly_rent")
    axe(page, "type version")
    page.goto(f"{live_server.url}/types/lease/samples/")
    page.set_input_files("#id_file", str(sample))
    page.fill("#id_expected_tenant_name", "Maria Lopez")
    page.fill("#id_expected_monthly_rent", "1,250.00")
    page.get_by_role("button", name="Add the sample").click()
    expect(page.locator(".notice")).to_contain_text("Sample lease.pdf added")
    expect(page.get_by_role("button", name="Check accuracy on 1 sample")).to_be_enabled()
    axe(page, "type samples and accuracy")
    screenshots(page, "types-03-samples")
    context.close()
