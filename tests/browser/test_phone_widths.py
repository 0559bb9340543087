"""On a 390 px phone (and a 360 px one) the applicant's screens fit: nothing scrolls sideways
(document.scrollWidth <= the window's width) and no table is cut off in its box."""

from __future__ import annotations

import pytest
from django.urls import reverse

from applications.models import Application

from .test_flow import sign_in
from .test_page_boxes import read_application  # noqa: F401 - a fixture

pytestmark = pytest.mark.browser


def _overflow(page) -> dict:
    return page.evaluate(
        """() => ({
            scroll: document.documentElement.scrollWidth,
            inner: window.innerWidth,
            wide: [...document.querySelectorAll('main *')]
                .filter(el => el.getBoundingClientRect().right > window.innerWidth + 1
                              && !el.closest('.page-scroll'))
                .slice(0, 5).map(el => el.tagName + '.' + el.className),
            tables: [...document.querySelectorAll('.table-wrap')]
                .filter(w => w.scrollWidth > w.clientWidth + 1)
                .map(w => [w.scrollWidth, w.clientWidth]),
        })"""
    )


@pytest.mark.parametrize("width", [390, 360])
def test_applicant_screens_fit_a_phone(
    live_server,
    browser,
    read_application,  # noqa: F811
    users,
    screenshots,
    axe,
    width,
):
    application, document, _fields = read_application
    owner = users["applicant"]
    Application.objects.filter(pk=application.pk).update(
        status=Application.Status.AWAITING_APPLICANT, submitted_at=None
    )
    for n in range(3):
        Application.objects.create(
            owner=owner,
            stated_name=f"Jordan Alexander Rivera-Montgomery {n}",
            stated_employer="Northwind Traders International",
        )
    base = live_server.url
    context = browser.new_context(viewport={"width": width, "height": 844}, has_touch=True)
    page = context.new_page()
    sign_in(page, base, owner.email)
    screens = {
        "my applications": reverse("application_list"),
        "application": reverse("application_detail", args=[application.pk]),
        "check values": reverse("document_detail", args=[document.pk]),
    }
    for name, path in screens.items():
        page.goto(base + path)
        result = _overflow(page)
        screenshots(page, f"phone-{width}-{name.replace(' ', '-')}")
        assert result["scroll"] <= width, (name, result)
        assert result["wide"] == [] and result["tables"] == [], (name, result)
        if width == 390:
            axe(page, f"{name} at {width} px")
    context.close()
