"""Signing up, confirming the address by the e-mailed link and signing in, in a browser; and a
reviewer setting up an authenticator app when staff two-factor sign-in is required. Every page
is django-allauth's view with Attest's template, checked with axe and for CSP violations (the
conftest fails the test on any)."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from playwright.sync_api import expect

from tests.accounts.test_mfa import totp_code

pytestmark = [pytest.mark.django_db(transaction=True)]

PASSWORD = "correct-horse-battery-9"


def test_a_new_applicant_signs_up_confirms_the_address_and_signs_in(
    browser, live_server, settings, screenshots, axe
):
    settings.SITE_URL = live_server.url
    mail.outbox.clear()
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.goto(f"{live_server.url}/")
    page.get_by_role("link", name="Create an account").first.click()
    expect(page.get_by_role("heading", name="Create an account")).to_be_visible()
    axe(page, "sign-up")
    page.fill("#id_full_name", "Morgan Lee")
    page.fill("#id_email", "morgan@example.com")
    page.fill("#id_password1", PASSWORD)
    page.fill("#id_password2", PASSWORD)
    page.get_by_role("button", name="Create account").click()
    expect(page.get_by_role("heading", name="Check your e-mail")).to_be_visible()
    screenshots(page, "auth-01-check-your-email")

    # Signing in before confirming only says to check the e-mail.
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_login", "morgan@example.com")
    page.fill("#id_password", PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Check your e-mail")).to_be_visible()

    assert len(mail.outbox) == 1
    link = re.search(r"https?://\S+", mail.outbox[0].body).group(0)
    assert link.startswith(f"{live_server.url}/accounts/confirm-email/")
    page.goto(link)
    expect(page.get_by_role("heading", name="Confirm your e-mail address")).to_be_visible()
    axe(page, "confirm e-mail")
    page.get_by_role("button", name="Confirm this address").click()

    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    axe(page, "sign-in")
    screenshots(page, "auth-02-sign-in")
    page.fill("#id_login", "morgan@example.com")
    page.fill("#id_password", PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator(".user-email")).to_have_text("morgan@example.com")
    expect(page.get_by_role("heading", name="My applications")).to_be_visible()
    context.close()


def test_a_reviewer_sets_up_an_authenticator_app_before_the_queue(
    browser, live_server, settings, users, screenshots, axe
):
    settings.ATTEST_REQUIRE_STAFF_MFA = True
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_login", users["reviewer"].email)
    page.fill("#id_password", "pw")
    page.get_by_role("button", name="Sign in").click()
    # Sent to set up the app; allauth asks for the password once more first.
    expect(page.get_by_role("heading", name="Confirm it is you")).to_be_visible()
    expect(page.locator(".messages")).to_contain_text("Reviewers and admins sign in with a code")
    page.fill("#id_password", "pw")
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("heading", name="Set up an authenticator app")).to_be_visible()
    axe(page, "authenticator set-up")
    screenshots(page, "auth-03-totp-setup")
    secret = page.locator("#authenticator_secret").inner_text().strip()
    page.fill("#id_code", totp_code(secret))
    page.get_by_role("button", name="Turn on two-factor sign-in").click()
    page.goto(f"{live_server.url}/review/")
    expect(page.get_by_role("heading", name="Review queue")).to_be_visible()

    # Signing in again: the password, then a code.
    page.get_by_role("button", name="Sign out").click()
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_login", users["reviewer"].email)
    page.fill("#id_password", "pw")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Enter your authenticator code")).to_be_visible()
    axe(page, "two-factor sign-in")
    page.fill("#id_code", totp_code(secret, step=1))
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator(".user-email")).to_have_text(users["reviewer"].email)
    context.close()
