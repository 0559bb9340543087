"""django-allauth, fitted to Attest: e-mail sign-in, plain words, links built on SITE_URL."""

from __future__ import annotations

from urllib.parse import quote

from allauth.account.adapter import DefaultAccountAdapter
from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.urls import reverse
from django.utils.crypto import get_random_string


def site_link(path: str) -> str:
    """An absolute link for an e-mail: SITE_URL (the address people open Attest at), never the
    Host header of the request that sent it."""
    return settings.SITE_URL.rstrip("/") + path


class AccountAdapter(DefaultAccountAdapter):
    error_messages = {
        **DefaultAccountAdapter.error_messages,
        "email_password_mismatch": (
            "That e-mail address and password do not match an account. Check them and try again."
        ),
        "too_many_login_attempts": (
            "Too many failed sign-ins for this address. Wait a few minutes and try again, or "
            "reset your password."
        ),
        "rate_limited": "Too many attempts from here. Wait a minute and try again.",
    }

    def clean_email(self, email: str) -> str:
        # Addresses are stored lower-case (accounts.models.UserManager does the same).
        return super().clean_email(email).strip().lower()

    def save_user(self, request, user, form, commit=True):
        user.full_name = (form.cleaned_data.get("full_name") or "").strip()
        return super().save_user(request, user, form, commit=commit)

    def get_email_confirmation_url(self, request, emailconfirmation) -> str:
        return site_link(reverse("account_confirm_email", args=[emailconfirmation.key]))

    def get_reset_password_from_key_url(self, key: str) -> str:
        path = reverse("account_reset_password_from_key", kwargs={"uidb36": "UID", "key": "KEY"})
        return site_link(path.replace("UID-KEY", quote(key)))

    def send_account_already_exists_mail(self, email: str) -> None:
        # A new account costs one password hash; without one here, a sign-up for a taken
        # address answered in 14 ms against 380 ms (PBKDF2), which told the addresses apart
        # (python -m bench.sign_in).
        make_password(get_random_string(24))
        self.send_mail(
            "account/email/account_already_exists",
            email,
            {"password_reset_url": site_link(reverse("account_reset_password"))},
        )

    def send_mail(self, template_prefix: str, email: str, context: dict) -> None:
        # allauth builds links from the request's host; every link of ours comes from SITE_URL.
        context = {
            **context,
            "site_url": settings.SITE_URL.rstrip("/"),
            "signup_url": site_link(reverse("account_signup")),
            "login_url": site_link(reverse("account_login")),
        }
        super().send_mail(template_prefix, email, context)
