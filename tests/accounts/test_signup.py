"""Signing up, signing in and out, and resetting a forgotten password."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from django.urls import reverse

from accounts.models import User

pytestmark = pytest.mark.django_db

PASSWORD = "correct-horse-battery-9"


def _signup(client, **overrides):
    data = {
        "email": "New.Person@Example.com",
        "full_name": "New Person",
        "password1": PASSWORD,
        "password2": PASSWORD,
        **overrides,
    }
    return client.post(reverse("signup"), data)


def test_signup_creates_an_applicant_signs_them_in_and_sends_them_home(client):
    response = _signup(client)
    assert response.status_code == 302
    assert response["Location"] == reverse("home")
    user = User.objects.get()
    assert (user.email, user.full_name, user.role) == (
        "new.person@example.com",
        "New Person",
        "applicant",
    )
    home = client.get(reverse("home"))
    assert home["Location"] == reverse("application_list")
    assert client.get(home["Location"]).status_code == 200


def test_signed_up_person_can_sign_out_and_in_again(client):
    _signup(client)
    client.post(reverse("logout"))
    assert client.get(reverse("application_list")).status_code == 302
    response = client.post(
        reverse("login"), {"username": "new.person@example.com", "password": PASSWORD}
    )
    assert response.status_code == 302
    assert client.get(reverse("application_list")).status_code == 200


def test_wrong_password_says_so_in_plain_words(client):
    _signup(client)
    client.post(reverse("logout"))
    response = client.post(
        reverse("login"), {"username": "new.person@example.com", "password": "nope"}
    )
    assert response.status_code == 200
    assert "do not match an account" in response.content.decode()


def test_signup_refuses_a_taken_address_and_mismatched_passwords(client):
    User.objects.create_user("new.person@example.com", "x")
    page = _signup(client, password2="something-else-1").content.decode()
    assert "An account with this e-mail address already exists." in page
    assert "The two passwords do not match." in page
    assert User.objects.count() == 1


def test_signup_refuses_a_weak_password(client):
    page = _signup(client, password1="12345678", password2="12345678").content.decode()
    assert "This password is too common." in page
    assert not User.objects.exists()


def test_auth_pages_render(client):
    for name in ("login", "signup", "password_reset"):
        assert client.get(reverse(name)).status_code == 200


def test_password_reset_sends_a_link_that_sets_a_new_password(client):
    User.objects.create_user("dana@example.com", "old-password-123")
    response = client.post(reverse("password_reset"), {"email": "dana@example.com"})
    assert response["Location"] == reverse("password_reset_done")
    assert len(mail.outbox) == 1
    link = re.search(r"https?://[^/]+(/\S+)", mail.outbox[0].body).group(1)
    form = client.get(link, follow=True)
    assert form.status_code == 200
    response = client.post(
        form.redirect_chain[-1][0],
        {"new_password1": "brand-new-secret-77", "new_password2": "brand-new-secret-77"},
    )
    assert response["Location"] == reverse("password_reset_complete")
    assert client.login(username="dana@example.com", password="brand-new-secret-77")
