"""One application through a real browser: upload, check values, submit, review, audit.

Runs Debian's Chromium against pytest-django's live server, with a real Celery worker reading
the sample pay stub from the same (transactional) test database.
"""

from __future__ import annotations

import csv
import io
import re
from decimal import Decimal
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from accounts.models import Role
from applications.models import Application
from applications.services import application_create
from audit.models import AuditEvent
from extraction.models import Document, Field

pytestmark = [pytest.mark.browser, pytest.mark.worker]

WORKER_TIMEOUT_MS = 90_000
PASSWORD = "pw"
REASON = "The stub shows the bonus advance withheld; my bank received less."


def sign_in(page: Page, base_url: str, email: str, *, screenshot=None) -> None:
    page.goto(f"{base_url}/accounts/login/")
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    if screenshot:
        screenshot(page, "01-login")
    page.fill("#id_login", email)
    page.fill("#id_password", PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator(".user-email")).to_have_text(email)


def assert_fits(page: Page, width: int) -> None:
    """Nothing makes the page scroll sideways, and every table fits its box without scrolling."""
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    overflowing = page.evaluate(
        """() => [...document.querySelectorAll('.table-wrap')]
            .filter(wrap => wrap.scrollWidth > wrap.clientWidth + 1)
            .map(wrap => [wrap.className, wrap.scrollWidth, wrap.clientWidth])"""
    )
    assert overflowing == [], overflowing


def money_text(amount: Decimal) -> str:
    return f"{amount:,.2f}"


def wait_read(page: Page, item, worker) -> None:
    try:
        expect(item.locator(".doc-status .badge")).to_have_text("Read", timeout=WORKER_TIMEOUT_MS)
    except AssertionError as error:
        log = worker.output()[-4000:]
        raise AssertionError(f"{error}\nWorker log:\n{log}") from error


def check_everything(page: Page) -> None:
    """Confirm what is left on a document page; mark required values it lacks as absent."""
    if page.get_by_role("button", name="Confirm all remaining").count():
        page.get_by_role("button", name="Confirm all remaining").click()
        expect(page.locator(".notice-success")).to_contain_text("confirmed")
    absent = page.locator("button[name=absent]")
    while absent.count():
        absent.first.click()
        page.wait_for_load_state("networkidle")
    expect(page.locator(".head-actions")).to_contain_text("All values checked")


def test_an_application_goes_from_upload_to_approval_and_into_the_audit(
    live_server,
    celery_worker_process,
    browser,
    screenshots,
    axe,
    users,
    shipped_types,
    sample_pay_stub,
    sample_documents,
):
    base = live_server.url

    # --- The applicant signs in, starts an application and uploads a pay stub. ---------------
    applicant_context = browser.new_context(viewport={"width": 1366, "height": 900})
    page = applicant_context.new_page()
    sign_in(page, base, users["applicant"].email, screenshot=screenshots)
    expect(page.get_by_role("heading", name="My applications")).to_be_visible()
    axe(page, "my applications")

    page.fill("#id_stated_name", "Jordan A. Rivera")
    page.fill("#id_stated_employer", "Northwind Logistics LLC")
    page.get_by_role("button", name="Start application").click()
    expect(page.locator(".notice-success")).to_contain_text("created")
    application = Application.objects.get(owner=users["applicant"])
    expect(page.locator("h1")).to_contain_text(application.reference)

    # Two files at once, type left to detection; each gets a progress bar.
    utility_bill = sample_documents / "utility_bill_2026-02.pdf"
    axe(page, "application, empty")
    page.set_input_files("#id_files", [str(sample_pay_stub), str(utility_bill)])
    expect(page.locator(".upload-item")).to_have_count(2)
    expect(page.locator(".upload-item progress")).to_have_count(2)
    page.locator("button[name=upload]").click()
    expect(page.locator(".notice-success")).to_contain_text(
        "2 files uploaded. We are reading them now.", timeout=WORKER_TIMEOUT_MS
    )

    # The list polls with htmx until the worker has read the documents.
    item = page.locator(".doc-item").filter(has_text=sample_pay_stub.name)
    bill_item = page.locator(".doc-item").filter(has_text=utility_bill.name)
    wait_read(page, item, celery_worker_process)
    wait_read(page, bill_item, celery_worker_process)
    check_link = item.get_by_role("link", name=re.compile(r"^Check \d+ values?$"))
    expect(check_link).to_be_visible()
    # When the last document is read the whole page reloads, so the status and the problems
    # beside the list are current too.
    expect(page.locator(".page-head .badge")).to_have_text("Waiting for you to check")
    expect(page.locator(".problem-list")).to_contain_text("still to confirm or correct")
    expect(page.locator(".problem-list")).not_to_contain_text("still being read")
    axe(page, "application, read")
    screenshots(page, "03-application-detail-read")

    # The utility bill's values are right as read.
    bill_item.get_by_role("link", name=re.compile(r"^Check \d+ values?$")).click()
    check_everything(page)
    page.get_by_role("link", name="← Back to the application").click()

    document = Document.objects.get(application=application, original_name=sample_pay_stub.name)
    assert document.status == Document.Status.EXTRACTED
    net_pay = document.fields.get(key="net_pay")
    machine_value = net_pay.machine_value
    machine_amount = Decimal(net_pay.normalized)
    new_amount = (machine_amount * Decimal("0.8")).quantize(Decimal("0.01"))
    new_value = money_text(new_amount)

    # --- The applicant checks the values beside the page and corrects net pay. ---------------
    check_link.click()
    expect(page.get_by_role("heading", name=sample_pay_stub.name)).to_be_visible()
    image = page.locator(".checker-page img.page-img")
    expect(image).to_be_visible()
    expect(image).to_have_js_property("complete", True)
    assert image.evaluate("img => img.naturalWidth") > 0, "the page image did not load"

    row = page.locator(f"#field-{net_pay.pk}")
    value_input = page.locator(f"#value-{net_pay.pk}")
    expect(value_input).to_have_value(machine_value)
    value_input.fill(new_value)
    # Changing what the machine read opens the reason box by itself.
    expect(row.locator("details.reason")).to_have_attribute("open", "")
    page.fill(f"#reason-{net_pay.pk}", REASON)
    row.locator("button[name=save]").click()
    # htmx swaps the row in place.
    expect(row.locator(".badge")).to_contain_text("Corrected")
    expect(row).to_contain_text(f"We read: {machine_value}")
    expect(row.locator(".field-error")).to_have_count(0)
    expect(page.locator(f"#value-{net_pay.pk}")).to_have_value(new_value)

    page.get_by_role("button", name="Confirm all remaining").click()
    expect(page.locator(".notice-success")).to_contain_text("confirmed")
    expect(page.locator(".head-actions")).to_contain_text("All values checked")
    expect(page.locator(".field-error")).to_have_count(0)
    expect(page.locator(".checker-fields .badge", has_text="To check")).to_have_count(0)
    axe(page, "document check")
    screenshots(page, "04-document-check")

    # --- Back on the application, the applicant sees what they changed and submits. ---------
    page.get_by_role("link", name="← Back to the application").click()
    expect(page.get_by_text("Everything is checked.")).to_be_visible()
    page.get_by_role("button", name="Review and submit").click()
    expect(page.get_by_role("heading", name="What you changed")).to_be_visible()
    change = page.locator(".changes-table tbody tr").filter(has_text="Net pay")
    expect(change).to_contain_text(machine_value)
    expect(change).to_contain_text(new_value)
    expect(change).to_contain_text(REASON)
    axe(page, "submit summary")
    screenshots(page, "09-submit-summary")
    page.get_by_role("button", name="Submit application").click()
    expect(page.locator(".notice-success")).to_contain_text("submitted")
    expect(page.locator(".page-head .badge")).to_have_text("Submitted")

    page.get_by_role("link", name="My applications").first.click()
    listed = page.locator("tbody tr").filter(has_text=application.reference)
    expect(listed.locator(".badge")).to_have_text("Submitted")
    axe(page, "applications list")
    screenshots(page, "02-applications-list")

    # --- The reviewer claims it, jumps to a flag, corrects, waives, requests changes. --------
    reviewer_context = browser.new_context(viewport={"width": 1366, "height": 900})
    reviewer_page = page = reviewer_context.new_page()
    sign_in(page, base, users["reviewer"].email)
    expect(page.get_by_role("heading", name="Review queue")).to_be_visible()
    queued = page.locator("tbody tr").filter(has_text=application.reference)
    expect(queued).to_contain_text("Submitted")
    expect(queued.locator(".flag-counts")).to_contain_text("high")
    axe(page, "review queue")
    screenshots(page, "05-review-queue")
    queued.get_by_role("link", name=application.reference).click()

    expect(page.locator("h1")).to_contain_text(application.reference)
    page.get_by_role("button", name="Claim").click()
    expect(page.locator(".notice-success")).to_contain_text("is assigned to you")
    expect(page.locator(".head-actions")).to_contain_text("Assigned to: you")
    flag = page.locator(".flag").filter(has_text="Amount changed from the machine's reading")
    expect(flag).to_be_visible()
    expect(flag).to_contain_text("Net pay (this period)")
    expect(flag).to_contain_text("20% difference")
    review_row = page.locator(f"tr#field-{net_pay.pk}")
    expect(review_row).to_contain_text(machine_value)
    expect(review_row).to_contain_text(new_value)
    expect(review_row).to_have_class(re.compile(r"\bis-changed\b"))
    # Values the applicant only confirmed are not repeated as "their" value.
    employer_row = page.locator("tr[data-field]").filter(has_text="employer_name")
    expect(employer_row.locator("td").nth(1)).to_have_text("Confirmed")
    expect(employer_row).not_to_have_class(re.compile(r"\bis-changed\b"))
    assert_fits(page, 1366)
    axe(page, "review page")
    screenshots(page, "06-review")

    # A flag's link jumps to its field and lights up the field's box on the page.
    pay_date = document.fields.get(key="pay_date")
    page.locator(f"[data-jump-field='{pay_date.pk}']").first.click()
    expect(page.locator(f"tr#field-{pay_date.pk}")).to_have_class(re.compile(r"\bis-active\b"))
    expect(page.locator(f".evidence-box[data-box-for='{pay_date.pk}']")).to_have_class(
        re.compile(r"\bis-active\b")
    )
    # The keyboard: "?" opens the list of shortcuts, "j" selects the first flag, "e" edits.
    page.locator("h1").click()
    page.keyboard.press("?")
    expect(page.locator("#shortcuts")).to_have_attribute("open", "")
    page.keyboard.press("j")
    expect(page.locator("[data-nav-item]").first).to_have_class(re.compile(r"\bis-selected\b"))
    page.keyboard.press("e")
    editing = page.locator(".correct-row details[open] input[name=value]")
    expect(editing).to_be_focused()
    # Typing "a" in a box types it; it does not jump to Approve.
    page.keyboard.press("a")
    expect(editing).to_be_focused()
    page.keyboard.press("Escape")

    # The reviewer corrects net pay back to what the stub shows, with a reason.
    net_row = page.locator(f"tr.correct-row[data-field='{net_pay.pk}']")
    if net_row.locator("details[open]").count() == 0:
        net_row.locator("summary").click()
    page.fill(f"#correct-value-{net_pay.pk}", machine_value)
    page.fill(f"#correct-reason-{net_pay.pk}", "The stub's net pay line is the deposit.")
    net_row.get_by_role("button", name="Save").click()
    expect(page.locator(".notice-success")).to_contain_text("corrected")

    stale = page.locator(".flag").filter(has_text="Pay stub older than 30 days")
    if stale.locator("textarea").count():
        stale.locator("textarea").fill("Most recent stub the employer issued; confirmed by phone.")
        stale.get_by_role("button", name="Waive flag").click()
        expect(page.locator(".notice-success")).to_contain_text("waived")

    page.fill("#decision-note", "Please upload a bank statement showing the deposit.")
    # The reviewer chooses what the request reopens: here, the documents only.
    page.locator(".reopen-picker summary").click()
    page.check("#allow-uploads")
    page.get_by_role("button", name="Request changes").click()
    expect(page.locator(".notice-success")).to_contain_text("changes requested")

    # --- The applicant sees the request, answers and submits again. --------------------------
    page = applicant_page = applicant_context.new_page()
    page.goto(f"{base}/applications/{application.pk}/")
    expect(page.get_by_role("heading", name="The reviewer asked for changes")).to_be_visible()
    expect(page.locator(".callout-warning")).to_contain_text("bank statement showing the deposit")
    axe(page, "changes requested")
    screenshots(page, "10-changes-requested")
    page.get_by_role("button", name="Review and submit").click()
    page.get_by_role("button", name="Submit application").click()
    expect(page.locator(".notice-success")).to_contain_text("submitted")
    applicant_page.close()
    applicant_context.close()

    # --- The reviewer approves, confirming any serious flag still open. ----------------------
    page = reviewer_page
    page.goto(f"{base}/review/{application.pk}/")
    page.fill("#decision-note", "Deposit matches the corrected net pay.")
    if page.locator("#confirm-open-flags").count():
        page.check("#confirm-open-flags")
    page.get_by_role("button", name="Approve").click()
    expect(page.get_by_role("heading", name="Review queue")).to_be_visible()
    expect(page.locator(".notice-success")).to_contain_text(f"{application.reference}: approved")
    reviewer_context.close()

    # --- The admin finds the applicant's correction in the history. -------------------------
    admin_context = browser.new_context(viewport={"width": 1366, "height": 900})
    page = admin_context.new_page()
    sign_in(page, base, users["admin"].email)
    page.get_by_role("link", name="History", exact=True).click()
    expect(page.get_by_role("heading", name="History", exact=True)).to_be_visible()
    page.fill("#id_application_reference", application.reference)
    page.get_by_role("button", name="Filter").click()
    expect(page).to_have_url(re.compile(rf"application_reference={application.reference}"))
    correction = (
        page.locator("table.history-table tbody tr")
        .filter(has_text="net_pay")
        .filter(has_text="Applicant")
    )
    expect(correction).to_have_count(1)
    cells = correction.locator("td")
    expect(cells.nth(4)).to_have_text("Applicant")
    expect(cells.nth(5)).to_have_text(users["applicant"].email)
    expect(cells.nth(7)).to_have_text(machine_value)
    expect(cells.nth(8)).to_have_text(new_value)
    expect(cells.nth(9)).to_have_text(REASON)
    assert_fits(page, 1366)
    axe(page, "history")
    screenshots(page, "07-history")

    # The export holds the same rows as the filtered screen.
    with page.expect_download() as download_info:
        page.get_by_role("link", name=re.compile("Export these as CSV")).click()
    exported = Path(download_info.value.path()).read_text()
    assert REASON in exported and "net_pay" in exported
    exported_rows = list(csv.DictReader(io.StringIO(exported)))
    assert len(exported_rows) == AuditEvent.objects.filter(application_id=application.pk).count()

    # One value's timeline: machine, applicant, reviewer, with reasons, then the approving
    # reviewer's verification.
    correction.get_by_role("link", name="Net pay (this period)").click()
    expect(page.locator(".timeline-item")).to_have_count(4)
    expect(page.locator(".timeline-item").last).to_contain_text("verified")
    expect(page.locator(".timeline")).to_contain_text(REASON)
    expect(page.locator("main")).to_contain_text("full verification")
    axe(page, "field timeline")
    screenshots(page, "11-field-timeline")

    page.get_by_role("link", name="Accuracy").click()
    expect(page.locator("svg.bar-chart")).to_be_visible()
    expect(page.locator("table")).to_contain_text("Net pay (this period)")
    axe(page, "accuracy")
    screenshots(page, "12-accuracy")

    page.get_by_role("link", name="Throughput and cost").click()
    expect(page.locator(".stat-grid")).to_contain_text("Applications decided")
    axe(page, "throughput")
    screenshots(page, "13-throughput")
    admin_context.close()

    # --- What the database holds. ------------------------------------------------------------
    application.refresh_from_db()
    assert application.status == Application.Status.APPROVED
    assert application.assigned_to == users["reviewer"]
    net_pay.refresh_from_db()
    # Approval verifies every value in the reviewer's name; the history keeps who changed what.
    assert net_pay.status == Field.Status.VERIFIED
    assert net_pay.value == machine_value
    revisions = list(net_pay.revisions.order_by("number"))
    assert [(r.number, r.role, r.actor, r.value, r.action) for r in revisions] == [
        (1, Role.MACHINE, None, machine_value, "extracted"),
        (2, Role.APPLICANT, users["applicant"], new_value, "corrected"),
        (3, Role.REVIEWER, users["reviewer"], machine_value, "corrected"),
        (4, Role.REVIEWER, users["reviewer"], machine_value, "verified"),
    ]
    assert revisions[1].reason == REASON
    assert set(
        Field.objects.filter(document__application=application).values_list("status", flat=True)
    ) == {Field.Status.VERIFIED}


def test_on_a_phone_the_applicant_uploads_checks_and_submits(
    live_server,
    celery_worker_process,
    browser,
    screenshots,
    axe,
    users,
    shipped_types,
    sample_pay_stub,
):
    applicant = users["applicant"]
    application = application_create(owner=applicant, stated_name="Jordan A. Rivera")

    context = browser.new_context(
        viewport={"width": 390, "height": 844},
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
    )
    page = context.new_page()
    sign_in(page, live_server.url, applicant.email)
    page.goto(f"{live_server.url}/applications/{application.pk}/")

    # On a phone the camera is offered beside the file picker.
    expect(page.get_by_text("Take a photo")).to_be_visible()
    expect(page.locator("#id_photo")).to_have_attribute("capture", "environment")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    axe(page, "application on a phone")
    screenshots(page, "14-upload-phone")
    page.set_input_files("#id_files", str(sample_pay_stub))
    page.select_option("#id_document_type", label="Pay stub")
    expect(page.locator(".upload-item")).to_have_count(1)
    page.locator("button[name=upload]").click()
    expect(page.locator(".notice-success")).to_contain_text(
        "1 file uploaded", timeout=WORKER_TIMEOUT_MS
    )
    item = page.locator(".doc-item").filter(has_text=sample_pay_stub.name)
    wait_read(page, item, celery_worker_process)
    document = Document.objects.get(application=application)
    assert document.status == Document.Status.EXTRACTED
    item.get_by_role("link", name=re.compile(r"^Check \d+ values?$")).click()

    image = page.locator(".checker-page img.page-img")
    fields = page.locator(".checker-fields")
    expect(image).to_be_visible()
    expect(image).to_have_js_property("complete", True)
    expect(fields.locator(".field-row").first).to_be_visible()
    image_box = image.bounding_box()
    fields_box = fields.bounding_box()
    assert image_box is not None and fields_box is not None
    assert fields_box["y"] >= image_box["y"] + image_box["height"], (image_box, fields_box)
    # Stacked, not squeezed: both use (nearly) the whole width of the phone.
    assert image_box["width"] > 300 and fields_box["width"] > 300, (image_box, fields_box)
    # Nothing sticks out sideways.
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    # The header's navigation keeps each link on one line.
    nav_link = page.locator(".site-header .nav a").first
    expect(nav_link).to_have_accessible_name("Applications")
    assert nav_link.evaluate(
        "a => a.getBoundingClientRect().height < 2 * parseFloat(getComputedStyle(a).lineHeight)"
    ), "the header's link wraps onto two lines"
    axe(page, "document check on a phone")
    screenshots(page, "08-document-check-phone")

    check_everything(page)
    page.get_by_role("link", name="← Back to the application").click()
    page.get_by_role("button", name="Review and submit").click()
    expect(page.get_by_role("heading", name="What you changed")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    screenshots(page, "15-submit-summary-phone")
    page.get_by_role("button", name="Submit application").click()
    expect(page.locator(".notice-success")).to_contain_text("submitted")
    context.close()
