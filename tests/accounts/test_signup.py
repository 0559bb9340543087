"""Signing up, confirming the address, signing in and out, throttling, and resetting a forgotten
password, through django-allauth's views with Attest's templates and adapter."""

from __future__ import annotations

import re

import pytest
from allauth.account.models import EmailAddress
from django.core import mail
from django.core.cache import cache
from django.urls import reverse

from accounts.models import User
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

PASSWORD = "correct-horse-battery-9"
SITE = "https://attest.example.org"
CSRF = re.compile(r'name="csrfmiddlewaretoken" value="[^"]+"|"X-CSRFToken": "[^"]+"')


@pytest.fixture(autouse=True)
def _site_url(settings):
    settings.SITE_URL = SITE


def _signup(client, **overrides):
    data = {
        "email": "New.Person@Example.com",
        "full_name": "New Person",
        "password1": PASSWORD,
        "password2": PASSWORD,
        **overrides,
    }
    return client.post(reverse("account_signup"), data)


def _login(client, email="new.person@example.com", password=PASSWORD):
    return client.post(reverse("account_login"), {"login": email, "password": password})


def _link(message) -> str:
    """The one link of an e-mail, which must point at SITE_URL; returned as a path."""
    links = re.findall(r"https?://\S+", message.body)
    assert links, message.body
    for link in links:
        assert link.startswith(SITE + "/"), link
    return links[0].removeprefix(SITE)


def _page(response) -> str:
    return CSRF.sub("", response.content.decode())


def test_signup_sends_a_confirmation_link_and_signs_in_only_after_it(client):
    response = _signup(client)
    assert response.status_code == 302
    assert response["Location"] == reverse("account_email_verification_sent")
    user = User.objects.get()
    assert (user.email, user.full_name, user.role) == (
        "new.person@example.com",
        "New Person",
        "applicant",
    )
    assert client.get(reverse("application_list")).status_code == 302
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["new.person@example.com"]
    assert mail.outbox[0].subject == "Confirm your e-mail address for Attest"
    link = _link(mail.outbox[0])

    # Opening the link asks to confirm (a GET changes nothing: mail scanners open links).
    page = client.get(link)
    assert page.status_code == 200
    assert "new.person@example.com" in page.content.decode()
    assert not EmailAddress.objects.get(user=user).verified
    client.post(link)
    assert EmailAddress.objects.get(user=user).verified

    response = _login(client)
    assert response.status_code == 302
    home = client.get(reverse("home"))
    assert home["Location"] == reverse("application_list")
    assert client.get(home["Location"]).status_code == 200


def test_an_unconfirmed_address_cannot_sign_in_and_is_sent_a_new_link(client):
    _signup(client)
    response = _login(client)
    assert response["Location"] == reverse("account_email_verification_sent")
    page = client.get(response["Location"]).content.decode()
    assert "Check your e-mail" in page
    assert client.get(reverse("application_list")).status_code == 302
    # One link per address every three minutes (allauth's cooldown); after it, a new one.
    assert len(mail.outbox) == 1
    cache.clear()
    _login(client)
    assert len(mail.outbox) == 2
    assert "confirm-email" in _link(mail.outbox[1])
    assert client.get(reverse("application_list")).status_code == 302


def test_signed_in_person_can_sign_out_and_in_again(client):
    UserFactory(email="dana@example.com", password=PASSWORD)
    assert _login(client, "Dana@Example.com").status_code == 302
    assert client.get(reverse("application_list")).status_code == 200
    client.post(reverse("account_logout"))
    assert client.get(reverse("application_list")).status_code == 302
    assert _login(client, "dana@example.com").status_code == 302
    assert client.get(reverse("application_list")).status_code == 200


def test_wrong_password_says_so_in_plain_words(client):
    UserFactory(email="dana@example.com", password=PASSWORD)
    response = _login(client, "dana@example.com", "nope")
    assert response.status_code == 200
    assert "do not match an account" in response.content.decode()
    # The same words for an address with no account: sign-in does not tell them apart.
    unknown = _login(client, "nobody@example.com", "nope")
    assert "do not match an account" in unknown.content.decode()


def test_sign_in_is_throttled_after_five_failures_for_one_address(client):
    UserFactory(email="dana@example.com", password=PASSWORD)
    for _ in range(5):
        page = _login(client, "dana@example.com", "wrong-guess").content.decode()
        assert "do not match an account" in page
    # The sixth attempt is refused even with the right password, in plain words.
    response = _login(client, "dana@example.com", PASSWORD)
    assert response.status_code == 200
    assert "Too many failed sign-ins for this address" in response.content.decode()
    assert client.get(reverse("application_list")).status_code == 302
    # Another address is not locked by these failures.
    UserFactory(email="erin@example.com", password=PASSWORD)
    assert _login(client, "erin@example.com").status_code == 302


def test_signup_with_a_taken_address_looks_exactly_like_success(client):
    """No account enumeration: the same redirect and page; the owner is told by e-mail."""
    fresh = _signup(client, email="fresh@example.com")
    fresh_page = _page(client.get(fresh["Location"]))
    UserFactory(email="taken@example.com")
    mail.outbox.clear()
    taken = _signup(client, email="Taken@example.com")
    assert (taken.status_code, taken["Location"]) == (fresh.status_code, fresh["Location"])
    taken_page = _page(client.get(taken["Location"]))
    assert taken_page.replace("taken@", "fresh@") == fresh_page
    assert User.objects.filter(email="taken@example.com").count() == 1
    assert len(mail.outbox) == 1
    assert mail.outbox[0].subject == "You already have an Attest account"
    _link(mail.outbox[0])


def test_signup_refuses_mismatched_and_weak_passwords(client):
    page = _signup(client, password2="something-else-1").content.decode()
    assert "You must type the same password each time." in page
    page = _signup(client, password1="12345678", password2="12345678").content.decode()
    assert "This password is too common." in page
    assert not User.objects.exists()


def test_auth_pages_render(client):
    for name in ("account_login", "account_signup", "account_reset_password"):
        assert client.get(reverse(name)).status_code == 200


def test_password_reset_for_an_unknown_address_looks_exactly_like_a_known_one(client):
    UserFactory(email="dana@example.com")
    known = client.post(reverse("account_reset_password"), {"email": "dana@example.com"})
    unknown = client.post(reverse("account_reset_password"), {"email": "nobody@example.com"})
    assert (known.status_code, known["Location"]) == (unknown.status_code, unknown["Location"])
    assert known["Location"] == reverse("account_reset_password_done")
    assert [m.to for m in mail.outbox] == [["dana@example.com"], ["nobody@example.com"]]
    assert mail.outbox[0].subject == "Reset your Attest password"
    assert mail.outbox[1].subject == "Your request to Attest"
    _link(mail.outbox[1])


def test_password_reset_sends_a_link_that_sets_a_new_password(client):
    UserFactory(email="dana@example.com", password="old-password-123")
    client.post(reverse("account_reset_password"), {"email": "dana@example.com"})
    link = _link(mail.outbox[0])
    form = client.get(link, follow=True)
    assert form.status_code == 200
    assert "Choose a new password" in form.content.decode()
    response = client.post(
        form.redirect_chain[-1][0],
        {"password1": "brand-new-secret-77", "password2": "brand-new-secret-77"},
    )
    assert response["Location"] == reverse("account_reset_password_from_key_done")
    assert _login(client, "dana@example.com", "brand-new-secret-77").status_code == 302
    # The link works once.
    again = client.get(link, follow=True).content.decode()
    assert "already been used or has expired" in again


def test_demo_accounts_sign_in_without_a_confirmation_email(client, tmp_path, shipped_types):
    from review.demo import DEMO_ACCOUNTS, demo_setup

    (tmp_path / "x.pdf").write_bytes(b"%PDF-1.4")  # skip generating samples
    demo_setup(samples_dir=tmp_path)
    for email, password, _, _ in DEMO_ACCOUNTS:
        client.post(reverse("account_logout"))
        response = _login(client, email, password)
        assert response.status_code == 302, email
        assert response["Location"] != reverse("account_email_verification_sent")
    assert mail.outbox == []


def test_too_many_sign_ups_from_one_address_get_a_plain_page(client):
    """Past allauth's per-IP limit (20 a minute) sign-up answers 429 with Attest's page."""
    for i in range(20):
        assert _signup(client, email=f"bulk{i}@example.com").status_code == 302
    response = _signup(client, email="one-too-many@example.com")
    assert response.status_code == 429
    assert "Too many attempts" in response.content.decode()
    assert not User.objects.filter(email="one-too-many@example.com").exists()
