"""Two-factor sign-in (TOTP, django-allauth's mfa) for staff: required before any staff screen
when ATTEST_REQUIRE_STAFF_MFA is on (production's default), never forced on applicants."""

from __future__ import annotations

import time

import pytest
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import TOTP, format_hotp_value, hotp_value
from django.urls import reverse

from tests.config.test_production_settings import STRONG, _manage
from tests.factories import PASSWORD, AdminFactory, ReviewerFactory, UserFactory

pytestmark = pytest.mark.django_db

SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"


def totp_code(secret: str, step: int = 0) -> str:
    """The code an authenticator app shows now (allauth's own HOTP function)."""
    return format_hotp_value(hotp_value(secret, int(time.time()) // 30 + step))


def _login(client, user, password=PASSWORD):
    return client.post(reverse("account_login"), {"login": user.email, "password": password})


def _open_setup(client):
    """The set-up page, after typing the password again as allauth asks first."""
    response = client.get(reverse("mfa_activate_totp"))
    assert response["Location"].startswith(reverse("account_reauthenticate"))
    assert "Confirm it is you" in client.get(response["Location"]).content.decode()
    client.post(response["Location"], {"password": PASSWORD})
    return client.get(reverse("mfa_activate_totp"))


@pytest.fixture
def require_mfa(settings):
    settings.ATTEST_REQUIRE_STAFF_MFA = True


@pytest.fixture
def reviewer(staff_groups):
    return ReviewerFactory(email="riley@example.com")


def test_staff_without_an_authenticator_are_sent_to_set_one_up(client, require_mfa, reviewer):
    assert _login(client, reviewer).status_code == 302
    for name in ("review_queue", "home"):
        response = client.get(reverse(name))
        assert response.status_code == 302, name
        assert response["Location"] == reverse("mfa_activate_totp"), name
    told = client.get(reverse("mfa_activate_totp"), follow=True).content.decode()
    assert "Reviewers and admins sign in with a code" in told
    page = _open_setup(client)
    assert page.status_code == 200
    assert "Scan this code with the app" in page.content.decode()
    # An htmx request is told to load the page instead of receiving it as a fragment.
    htmx = client.get(reverse("review_queue"), headers={"HX-Request": "true"})
    assert htmx["HX-Redirect"] == reverse("mfa_activate_totp")
    # Signing out still works.
    assert client.post(reverse("account_logout")).status_code == 302
    assert client.get(reverse("review_queue"))["Location"].startswith(reverse("account_login"))


def test_django_admin_is_behind_the_same_door(client, require_mfa, staff_groups):
    admin = AdminFactory(email="avery@example.com", is_superuser=True)
    anonymous = client.get("/admin/")
    assert anonymous["Location"].startswith(reverse("admin:login"))
    login_page = client.get(reverse("admin:login"))
    assert login_page["Location"].startswith(reverse("account_login"))
    _login(client, admin)
    assert client.get("/admin/")["Location"] == reverse("mfa_activate_totp")


def test_applicants_are_never_forced(client, require_mfa):
    applicant = UserFactory(email="jordan@example.com")
    assert _login(client, applicant).status_code == 302
    assert client.get(reverse("application_list")).status_code == 200


def test_staff_set_up_totp_and_then_sign_in_with_a_code(client, require_mfa, reviewer):
    _login(client, reviewer)
    page = _open_setup(client)
    secret = page.context["form"].secret
    assert secret in page.content.decode()
    wrong = client.post(reverse("mfa_activate_totp"), {"code": "000000"})
    assert wrong.status_code == 200
    assert not Authenticator.objects.filter(user=reviewer).exists()
    response = client.post(reverse("mfa_activate_totp"), {"code": totp_code(secret)})
    assert response.status_code == 302
    assert Authenticator.objects.filter(user=reviewer, type=Authenticator.Type.TOTP).exists()
    assert client.get(reverse("review_queue")).status_code == 200

    # Next time: the password, then the code.
    client.post(reverse("account_logout"))
    response = _login(client, reviewer)
    assert response["Location"] == reverse("mfa_authenticate")
    assert client.get(reverse("review_queue")).status_code == 302
    refused = client.post(reverse("mfa_authenticate"), {"code": "123456"})
    assert refused.status_code == 200
    assert client.get(reverse("review_queue")).status_code == 302
    response = client.post(reverse("mfa_authenticate"), {"code": totp_code(secret, step=1)})
    assert response.status_code == 302
    assert client.get(reverse("review_queue")).status_code == 200


def test_a_code_works_once(client, require_mfa, reviewer):
    TOTP.activate(reviewer, SECRET)
    code = totp_code(SECRET)
    _login(client, reviewer)
    assert client.post(reverse("mfa_authenticate"), {"code": code}).status_code == 302
    other = type(client)()
    _login(other, reviewer)
    assert other.post(reverse("mfa_authenticate"), {"code": code}).status_code == 200
    assert other.get(reverse("review_queue")).status_code == 302


def test_with_the_flag_off_staff_sign_in_with_a_password_alone(client, settings, reviewer):
    settings.ATTEST_REQUIRE_STAFF_MFA = False
    _login(client, reviewer)
    assert client.get(reverse("review_queue")).status_code == 200


def test_production_requires_staff_mfa_and_counts_attempts_in_a_shared_cache():
    code = (
        "from django.conf import settings as s; "
        "print(s.ATTEST_REQUIRE_STAFF_MFA, s.CACHES['default']['BACKEND'].rsplit('.', 1)[-1], "
        "s.ACCOUNT_EMAIL_VERIFICATION, s.ACCOUNT_PREVENT_ENUMERATION)"
    )
    completed = _manage("shell", "-c", code, secret_key=STRONG)
    assert completed.stdout.strip().splitlines()[-1].split() == [
        "True",
        "RedisCache",
        "mandatory",
        "True",
    ], completed.stderr


def test_guessing_codes_is_throttled_like_passwords(client, require_mfa, reviewer):
    """Five wrong codes for one account in five minutes, and the right one is refused too."""
    TOTP.activate(reviewer, SECRET)
    _login(client, reviewer)
    valid = {totp_code(SECRET, step) for step in (-1, 0, 1, 2)}
    guesses = [f"{d}" * 6 for d in "123456789" if f"{d}" * 6 not in valid][:5]
    for guess in guesses:
        page = client.post(reverse("mfa_authenticate"), {"code": guess})
        assert page.status_code == 200
        assert "Incorrect code" in page.content.decode()
    page = client.post(reverse("mfa_authenticate"), {"code": totp_code(SECRET)})
    assert page.status_code == 200
    assert "Too many failed sign-ins" in page.content.decode()
    assert client.get(reverse("review_queue")).status_code == 302
