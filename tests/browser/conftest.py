"""Browser tests: Debian's Chromium driven by Playwright against pytest-django's live server.

Playwright's sync API keeps an asyncio loop running in the test thread, and Django refuses
ORM calls from a thread with a running loop (SynchronousOnlyOperation). Django's documented
escape hatch for tests is DJANGO_ALLOW_ASYNC_UNSAFE; the `browser` fixture sets it for as
long as Playwright runs.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
HERE = Path(__file__).resolve().parent
SCREENSHOTS = HERE.parents[1] / "test-artifacts" / "screenshots"


def pytest_collection_modifyitems(items):
    """Every test in this folder drives a browser."""
    for item in items:
        if HERE in Path(item.path).parents:
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def browser():
    """A headless Debian Chromium for the whole session."""
    if not CHROMIUM.exists():
        reason = f"The browser tests need Debian's Chromium at {CHROMIUM} (apt install chromium)."
        if os.environ.get("ATTEST_REQUIRE_BROWSER") == "1":
            pytest.fail(reason, pytrace=False)
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        with sync_playwright() as playwright:
            chromium = playwright.chromium.launch(
                executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
            )
            try:
                yield _CspWatchedBrowser(chromium)
            finally:
                chromium.close()


# Chromium logs each Content-Security-Policy violation to the console with these words.
CSP_CONSOLE_MARKER = "Content Security Policy"
CSP_VIOLATIONS: list[str] = []


class _CspWatchedBrowser:
    """The browser, with every context it opens watched for CSP violations in the console."""

    def __init__(self, browser):
        self._browser = browser

    def new_context(self, **kwargs):
        context = self._browser.new_context(**kwargs)
        context.on("console", _record_csp_violation)
        return context

    def __getattr__(self, name):
        return getattr(self._browser, name)


def _record_csp_violation(message) -> None:
    if CSP_CONSOLE_MARKER in message.text:
        CSP_VIOLATIONS.append(f"{message.location.get('url', '')}: {message.text}")


@pytest.fixture(autouse=True)
def no_csp_violations():
    """Every browser test ends with no Content-Security-Policy violation: none in the console
    and none reported to /csp-report/."""
    from core.csp import VIOLATIONS

    CSP_VIOLATIONS.clear()
    VIOLATIONS.clear()
    yield
    assert CSP_VIOLATIONS == [], CSP_VIOLATIONS
    assert list(VIOLATIONS) == [], list(VIOLATIONS)


@pytest.fixture
def screenshots():
    """Save a full-page screenshot of a screen as test-artifacts/screenshots/<name>.png."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    def save(page, name: str) -> Path:
        path = SCREENSHOTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return save


@pytest.fixture
def users(django_user_model, staff_groups):
    """An applicant, a reviewer (Reviewers group) and an admin (Admins group); password 'pw'."""
    from accounts.models import ADMINS_GROUP, REVIEWERS_GROUP
    from accounts.services import user_email_mark_verified

    applicant = django_user_model.objects.create_user(email="jordan@example.com", password="pw")
    reviewer = django_user_model.objects.create_user(email="riley@example.com", password="pw")
    reviewer.groups.add(staff_groups[REVIEWERS_GROUP])
    admin = django_user_model.objects.create_user(email="avery@example.com", password="pw")
    admin.groups.add(staff_groups[ADMINS_GROUP])
    for person in (applicant, reviewer, admin):
        user_email_mark_verified(user=person)
    return {"applicant": applicant, "reviewer": reviewer, "admin": admin}


@pytest.fixture
def sample_pay_stub(sample_documents) -> Path:
    return sample_documents / "pay_stub_2026-01-30.pdf"


AXE = HERE / "vendor" / "axe.min.js"


@pytest.fixture
def axe():
    """Run axe-core on the page; fail on serious or critical violations, naming each."""

    def check(page, name: str) -> None:
        if not page.evaluate("() => typeof window.axe !== 'undefined'"):
            # Evaluated through the DevTools protocol, which the page's CSP does not govern; a
            # <script> tag with the source inline would be (rightly) refused.
            page.evaluate(AXE.read_text())
        results = page.evaluate(
            """async () => {
                const result = await axe.run(document, {resultTypes: ['violations']});
                return result.violations
                    .filter(v => v.impact === 'serious' || v.impact === 'critical')
                    .map(v => ({id: v.id, impact: v.impact, help: v.help,
                                nodes: v.nodes.slice(0, 5).map(n => n.target.join(' '))}));
            }"""
        )
        assert results == [], f"axe-core on {name}: {results}"

    return check
