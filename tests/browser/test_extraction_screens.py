"""In a real browser with a real worker: a statement's transactions as a table whose rows light
up their boxes, a file holding two documents split into parts, and an admin's reading cost."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect

from applications.models import Application
from extraction.models import Document, ExtractionRun, Field

from .test_flow import WORKER_TIMEOUT_MS, assert_fits, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.worker]


def _two_documents_in_one(sample_documents, folder):
    from pypdf import PdfWriter

    writer = PdfWriter()
    for name in ("pay_stub_2026-01-30.pdf", "w2_2025.pdf"):
        writer.append(str(sample_documents / name))
    path = folder / "scanned-together.pdf"
    with path.open("wb") as handle:
        writer.write(handle)
    return path


def test_rows_split_files_and_cost_on_screen(
    live_server,
    celery_worker_process,
    browser,
    screenshots,
    axe,
    users,
    shipped_types,
    sample_documents,
    tmp_path,
):
    base = live_server.url
    statement = sample_documents / "bank_statement_2026-01.pdf"
    combined = _two_documents_in_one(sample_documents, tmp_path)

    context = browser.new_context(viewport={"width": 1366, "height": 900})
    page = context.new_page()
    sign_in(page, base, users["applicant"].email)
    page.fill("#id_stated_name", "Jordan A. Rivera")
    page.get_by_role("button", name="Start application").click()
    application = Application.objects.get(owner=users["applicant"])
    page.set_input_files("#id_files", [str(statement), str(combined)])
    page.locator("button[name=upload]").click()
    # Each file is inspected in a sandboxed child first: allow for a loaded machine.
    expect(page.locator(".notice-success")).to_contain_text(
        "2 files uploaded", timeout=WORKER_TIMEOUT_MS
    )

    # The combined file is split; its parts are listed and read as documents of their own.
    parent = page.locator(".doc-item").filter(has_text="Split into 2 documents")
    expect(parent).to_be_visible(timeout=WORKER_TIMEOUT_MS)
    expect(parent.locator(".split-parts li")).to_have_count(2)
    parts = page.locator(".doc-item.doc-part")
    expect(parts).to_have_count(2)
    expect(parts.first).to_contain_text("of “scanned-together.pdf”")
    statement_item = page.locator(".doc-item").filter(has_text=statement.name)
    expect(statement_item.locator(".doc-status .badge")).to_have_text(
        "Read", timeout=WORKER_TIMEOUT_MS
    )
    for index in range(2):
        expect(parts.nth(index).locator(".doc-status .badge")).to_have_text(
            "Read", timeout=WORKER_TIMEOUT_MS
        )
    expect(page.locator(".problem-list")).not_to_contain_text("scanned-together.pdf")
    axe(page, "application with a split file")
    screenshots(page, "16-application-split")

    # The part's original-file link opens the shared file.
    part = Document.objects.filter(application=application, split_from__isnull=False).first()
    response = page.request.get(base + reverse("document_original", args=[part.pk]))
    assert response.ok and response.body().startswith(b"%PDF")

    # As if a second provider read the statement and saw another closing balance.
    Field.objects.filter(document__application=application, key="closing_balance").update(
        agreement="disagree", second_value="$3,745.04"
    )
    ExtractionRun.objects.filter(document__original_name=statement.name).update(
        cost=Decimal("0.012345"), tokens_in=5120, tokens_out=640
    )

    # The statement's transactions are a table; a row lights up its box on the page.
    statement_item.get_by_role("link", name=re.compile(r"^Check \d+ values?$")).click()
    transactions = Field.objects.get(document__application=application, kind="rows")
    table = page.locator(f"#field-{transactions.pk} .rows-table")
    expect(table).to_be_visible()
    expect(page.locator(".field-row .marker-disagree")).to_contain_text("Two readings differ")
    expect(page.locator(".field-row").first).to_contain_text("Closing balance")
    assert table.locator("tbody tr").count() >= 2
    first_row = table.locator("tbody tr[tabindex]").first
    row_id = first_row.get_attribute("data-row-for")
    first_row.click()
    expect(first_row).to_have_class(re.compile(r"\bis-active\b"))
    expect(page.locator(f"[data-row-box='{row_id}']")).to_have_class(re.compile(r"\bis-active\b"))

    # Zooming enlarges the page inside its own scroll box; the boxes stay on their words.
    frame = page.locator(".page-frame").first
    box_on_page = page.locator(f"[data-row-box='{row_id}']").first
    before = frame.bounding_box()["width"]
    ratio_before = box_on_page.bounding_box()["x"] - frame.bounding_box()["x"]
    page.get_by_role("button", name="Zoom in").click()
    expect(page.locator(".zoom-bar output").first).to_have_text("150%")
    after = frame.bounding_box()["width"]
    assert after > before * 1.4
    ratio_after = box_on_page.bounding_box()["x"] - frame.bounding_box()["x"]
    assert abs(ratio_after / after - ratio_before / before) < 0.01
    page.get_by_role("button", name="Fit the page to the width").click()
    expect(page.locator(".zoom-bar output").first).to_have_text("100%")
    assert_fits(page, 1366)
    axe(page, "statement rows")
    screenshots(page, "17-statement-rows")

    # Correcting the rows as text: a bad line is named and what was typed is kept.
    form = page.locator(f"#field-{transactions.pk}")
    form.locator("details.rows-correct summary").click()
    box = form.locator("textarea[name=rows_text]")
    box.fill(box.input_value() + "\n02/30/2026 | Refund | ten dollars")
    form.get_by_role("button", name=re.compile("Save")).click()
    error = page.locator(f"#field-{transactions.pk} .field-error")
    expect(error).to_contain_text("is not a date")
    expect(page.locator(f"#field-{transactions.pk} textarea")).to_have_value(
        re.compile("ten dollars")
    )
    screenshots(page, "18-statement-rows-error")

    # An admin sees the reading cost on the review page.
    Application.objects.filter(pk=application.pk).update(
        status=Application.Status.SUBMITTED, submitted_at=timezone.now()
    )
    admin_page = browser.new_context(viewport={"width": 1366, "height": 900}).new_page()
    sign_in(admin_page, base, users["admin"].email)
    admin_page.goto(base + reverse("review_application", args=[application.pk]))
    expect(admin_page.locator("#cost")).to_contain_text("Application total")
    expect(admin_page.locator("#cost tfoot")).to_contain_text("$0.0123")
    expect(admin_page.locator("td .marker-disagree").first).to_contain_text("Two readings differ")
    expect(admin_page.locator(".rows-table").first).to_be_visible()
    expect(admin_page.locator(".split-parts")).to_be_visible()
    axe(admin_page, "review page with cost, rows and a split file")
    screenshots(admin_page, "19-review-cost-rows-split")
