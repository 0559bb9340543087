"""In Chromium: the reviewer sees flags most severe first, waives several with one note, and
finds an application in the queue by reference, name or e-mail."""

from __future__ import annotations

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from applications.models import Application
from audit.models import Action, AuditEvent
from rules.models import Flag, Severity
from tests.factories import FlagFactory

from .test_flow import sign_in
from .test_page_boxes import read_application  # noqa: F401, F811 - a fixture

pytestmark = pytest.mark.browser


def test_flags_by_severity_and_several_waived_with_one_note(
    live_server,
    browser,
    read_application,  # noqa: F811
    users,
    screenshots,
    axe,  # noqa: F811
):
    application, document, fields = read_application
    for severity in (Severity.LOW, Severity.MEDIUM, Severity.LOW):
        FlagFactory(
            application=application,
            document=document,
            field=fields["net_pay"],
            severity=severity,
            title=f"{severity.label} check",
        )
    base = live_server.url
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    sign_in(page, base, users["reviewer"].email)
    page.goto(base + reverse("review_application", args=[application.pk]))
    severities = page.locator(".flag .severity").all_text_contents()
    assert [s.split()[-1] for s in severities] == ["High", "Medium", "Low", "Low"]
    axe(page, "review page with several flags")

    lows = page.locator(".flag").filter(has_text="Low check")
    for index in range(2):
        lows.nth(index).get_by_label("Waive with the others").check()
    page.fill("#bulk-waive-note", "Scanned stub; both values checked by hand")
    page.get_by_role("button", name="Waive the ticked flags").click()
    expect(page.locator(".notice-success")).to_have_text("2 flags waived.")
    waived = Flag.objects.filter(application=application, status=Flag.Status.WAIVED)
    assert {flag.title for flag in waived} == {"Low check"}
    events = AuditEvent.objects.filter(application_id=application.pk, action=Action.FLAG_WAIVED)
    assert events.count() == 2
    assert set(events.values_list("actor__email", flat=True)) == {users["reviewer"].email}
    screenshots(page, "review-bulk-waived")
    context.close()


def test_the_queue_finds_an_application_by_name_and_keeps_the_search(
    live_server,
    browser,
    read_application,  # noqa: F811
    users,
    screenshots,
    axe,
):
    application, _document, _fields = read_application
    other = Application.objects.create(
        owner=users["admin"], stated_name="Someone Else", status=Application.Status.SUBMITTED
    )
    other.submitted_at = other.created_at
    other.save()
    base = live_server.url
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    sign_in(page, base, users["reviewer"].email)
    page.goto(base + reverse("review_queue"))
    page.get_by_label("Search").fill("rivera")
    page.get_by_role("button", name="Filter").click()
    rows = page.locator("table tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text(application.reference)
    expect(page.get_by_label("Search")).to_have_value("rivera")
    assert "q=rivera" in page.url
    axe(page, "queue with a search")
    page.get_by_label("Search").fill(users["applicant"].email.upper())
    page.get_by_role("button", name="Filter").click()
    expect(rows).to_have_count(1)
    page.get_by_label("Search").fill("no such person")
    page.get_by_role("button", name="Filter").click()
    expect(page.locator(".empty")).to_contain_text("No application you can see matches")
    screenshots(page, "queue-search")
    context.close()
