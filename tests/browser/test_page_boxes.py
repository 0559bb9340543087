"""Evidence boxes sit on their words on every screen that shows a page, at every size.

The page images carry dark blocks where the words are; each field's box is the block's place
as a fraction of the page. In Chromium, on the applicant's check screen and the reviewer's page,
at three widths standing for 100 %, 150 % and 200 % browser zoom of a 1280 px window, a phone,
and each step of the page's own zoom control, every box's rectangle on the screen must match
its block's rectangle on the rendered image within 1.5 px. On the reviewer's page the image
takes at least 60 % of a 1280 px window, and "Go to <field>" lights up that field's row and
box and shows both.
"""

from __future__ import annotations

import io
import re

import pytest
from django.core.files.base import ContentFile
from django.urls import reverse
from django.utils import timezone
from PIL import Image, ImageDraw
from playwright.sync_api import expect

from applications.models import Application
from rules.models import Severity
from tests.factories import DocumentFactory, FieldFactory, FlagFactory, PageFactory

from .test_flow import assert_fits, sign_in

pytestmark = pytest.mark.browser

# Where the "words" are, as fractions of the page: (page, key, box).
WORDS = [
    (1, "employer", [0.10, 0.08, 0.42, 0.11]),
    (1, "gross_pay", [0.55, 0.40, 0.80, 0.43]),
    (1, "net_pay", [0.55, 0.86, 0.78, 0.89]),
    (2, "pay_date", [0.20, 0.70, 0.45, 0.73]),
]
# Widths a 1280 px window has at 100 %, 150 % and 200 % browser zoom, and a phone.
VIEWPORTS = [(1280, 900), (853, 600), (640, 450), (390, 844)]


def _page_png(number: int) -> bytes:
    image = Image.new("RGB", (1224, 1584), "white")
    draw = ImageDraw.Draw(image)
    for page, _key, (x0, y0, x1, y1) in WORDS:
        if page == number:
            draw.rectangle((x0 * 1224, y0 * 1584, x1 * 1224, y1 * 1584), fill="black")
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


@pytest.fixture
def read_application(users, shipped_types):
    application = Application.objects.create(
        owner=users["applicant"],
        stated_name="Jordan A. Rivera",
        status=Application.Status.SUBMITTED,
        submitted_at=timezone.now(),
    )
    document = DocumentFactory(
        application=application, document_type=shipped_types["pay_stub"], page_count=2
    )
    pages = {}
    for number in (1, 2):
        page = PageFactory(document=document, number=number, width=612, height=792)
        page.image.save(f"page-{number}.png", ContentFile(_page_png(number)))
        pages[number] = page
    fields = {}
    for position, (number, key, box) in enumerate(WORDS):
        fields[key] = FieldFactory(
            document=document,
            page=pages[number],
            key=key,
            label=key.replace("_", " ").capitalize(),
            position=position,
            machine_value=f"value {position}",
            box=box,
        )
    FlagFactory(
        application=application,
        document=document,
        field=fields["pay_date"],
        severity=Severity.HIGH,
        title="Pay date looks old",
    )
    return application, document, fields


def _box_errors(page) -> list:
    """Every placed box against its word's place on its rendered image, in CSS pixels."""
    return page.evaluate(
        """(words) => {
            const errors = [];
            let checked = 0;
            document.querySelectorAll('.evidence-box[data-box-for]').forEach(box => {
                const frame = box.closest('.page-frame');
                const img = frame.querySelector('img');
                const word = words[box.title];
                if (!word) return;
                const i = img.getBoundingClientRect(), b = box.getBoundingClientRect();
                const want = [i.left + word[0] * i.width, i.top + word[1] * i.height,
                              i.left + word[2] * i.width, i.top + word[3] * i.height];
                const got = [b.left, b.top, b.right, b.bottom];
                checked += 1;
                if (want.some((w, k) => Math.abs(w - got[k]) > 1.5))
                    errors.push({field: box.title, want, got});
            });
            return {checked, errors};
        }""",
        {key.replace("_", " ").capitalize(): box for _n, key, box in WORDS},
    )


def _zoom_steps(page):
    """The page's own zoom control: 100 %, then each "Zoom in" up to 200 %."""
    yield "100%"
    for _ in range(2):
        page.get_by_role("button", name="Zoom in").first.click()
        yield page.locator(".zoom-bar output").first.text_content()


def test_boxes_sit_on_their_words_on_both_screens_at_every_size(
    live_server, browser, read_application, users, screenshots, axe
):
    application, document, fields = read_application
    base = live_server.url
    screens = [
        ("reviewer", reverse("review_application", args=[application.pk]), 3),
        ("applicant", reverse("document_detail", args=[document.pk]), 3),
    ]
    for role, path, boxes in screens:
        for width, height in VIEWPORTS:
            context = browser.new_context(viewport={"width": width, "height": height})
            page = context.new_page()
            sign_in(page, base, users[role].email)
            page.goto(base + path)
            page.wait_for_function(
                "() => [...document.querySelectorAll('.page-img')]"
                ".every(i => i.complete && i.naturalWidth)"
            )
            for zoom in _zoom_steps(page):
                result = _box_errors(page)
                assert result["checked"] >= boxes, (role, width, zoom, result)
                assert result["errors"] == [], (role, width, zoom, result["errors"])
            if width == 390:
                assert_fits(page, 390)
            screenshots(page, f"boxes-{role}-{width}")
            context.close()


def test_reviewer_page_image_is_wide_and_go_to_shows_the_row_and_its_box(
    live_server, browser, read_application, users, screenshots, axe
):
    application, document, fields = read_application
    base = live_server.url
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    sign_in(page, base, users["reviewer"].email)
    page.goto(base + reverse("review_application", args=[application.pk]))
    image = page.locator(".page-img").first.bounding_box()
    assert image is not None and image["width"] >= 0.6 * 1280, image
    axe(page, "review page")

    pay_date = fields["pay_date"]
    page.get_by_role("link", name="Go to Pay date").click()
    row = page.locator(f"#field-{pay_date.pk}")
    box = page.locator(f".evidence-box[data-box-for='{pay_date.pk}']")
    expect(row).to_have_class(re.compile(r"\bis-active\b"))
    expect(box).to_have_class(re.compile(r"\bis-active\b"))
    # Only the chosen field's box is lit.
    expect(page.locator(".evidence-box.is-active")).to_have_count(1)
    page.wait_for_timeout(300)
    assert row.is_visible() and box.is_visible()
    in_view = page.evaluate(
        """([rowSel, boxSel]) => [rowSel, boxSel].map(sel => {
            const r = document.querySelector(sel).getBoundingClientRect();
            return r.top >= 0 && r.bottom <= window.innerHeight;
        })""",
        [f"#field-{pay_date.pk}", f".evidence-box[data-box-for='{pay_date.pk}']"],
    )
    assert in_view == [True, True], in_view
    screenshots(page, "review-go-to")
    context.close()
