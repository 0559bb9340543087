"""In Chromium, as the applicant: a value changed with a reason keeps the reason in view, a
refused input never shows as saved, any value can be "Not on this document", a document is
removed, and the application withdrawn; axe-core clean."""

from __future__ import annotations

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from applications.models import Application
from audit.models import Action, AuditEvent
from extraction.models import Document

from .test_flow import sign_in
from .test_page_boxes import read_application  # noqa: F401 - a fixture

pytestmark = pytest.mark.browser


def test_the_applicant_checks_values_removes_a_document_and_withdraws(
    live_server,
    browser,
    read_application,  # noqa: F811
    users,
    screenshots,
    axe,
):
    application, document, fields = read_application
    Application.objects.filter(pk=application.pk).update(
        status=Application.Status.AWAITING_APPLICANT, submitted_at=None
    )
    base = live_server.url
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    sign_in(page, base, users["applicant"].email)
    page.goto(base + reverse("document_detail", args=[document.pk]))

    employer = page.locator(f"#field-{fields['employer'].pk}")
    employer.locator("input[name=value]").fill("Northwind Logistics LLC")
    # Changing what the machine read opens the reason box by itself.
    expect(employer.locator("details.reason")).to_have_attribute("open", "")
    employer.locator("input[name=reason]").fill("Full name on the stub")
    employer.get_by_role("button", name="Save Employer").click()
    employer = page.locator(f"#field-{fields['employer'].pk}")
    expect(employer.locator(".saved-reason")).to_have_text("Your reason: “Full name on the stub”")

    # Every value offers "Not on this document", even one the machine read.
    net = page.locator(f"#field-{fields['net_pay'].pk}")
    net.get_by_role("button", name="Net pay: not on this document").click()
    expect(page.locator(f"#field-{fields['net_pay'].pk} .badge-absent")).to_be_visible()
    axe(page, "check values after saving")
    screenshots(page, "applicant-reason-and-absent")

    page.goto(base + reverse("application_detail", args=[application.pk]))
    page.locator(".remove-doc summary").first.click()
    page.get_by_label("Why (optional)").first.fill("Wrong month")
    page.get_by_role("button", name=f"Remove “{document.original_name}”").click()
    expect(page.locator(".notice-success")).to_contain_text("is removed from this application")
    assert not Document.objects.filter(pk=document.pk).exists()
    assert Document.all_objects.filter(pk=document.pk, removed_by=users["applicant"]).exists()

    page.locator("details.withdraw summary").click()
    page.get_by_role("button", name=f"Withdraw {application.reference}").click()
    expect(page.locator("#withdrawn")).to_contain_text("You withdrew this application")
    axe(page, "withdrawn application")
    screenshots(page, "applicant-withdrawn")
    actions = set(
        AuditEvent.objects.filter(application_id=application.pk).values_list("action", flat=True)
    )
    assert {Action.DOCUMENT_REMOVED, Action.APPLICATION_WITHDRAWN} <= actions
    context.close()
