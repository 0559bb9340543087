"""Account writes that happen outside allauth's own screens."""

from __future__ import annotations

from allauth.account.adapter import get_adapter
from allauth.account.forms import default_token_generator
from allauth.account.models import EmailAddress
from allauth.account.utils import user_pk_to_url_str
from django.urls import reverse

from .adapters import site_link
from .models import User


def user_email_mark_verified(*, user: User) -> EmailAddress:
    """Record the user's address as confirmed and primary, for accounts an operator creates
    (the demo accounts, tests) rather than a person signing up; idempotent."""
    address, _ = EmailAddress.objects.update_or_create(
        user=user,
        email__iexact=user.email,
        defaults={"email": user.email, "verified": True, "primary": True},
    )
    EmailAddress.objects.filter(user=user).exclude(pk=address.pk).update(primary=False)
    return address


def user_find_or_invite(*, email: str, full_name: str = "") -> tuple[User, str, bool]:
    """The account for ``email``, created when there is none, and the link its owner should
    open. A new account gets allauth's set-a-password link (an unusable password until then;
    the address stays unconfirmed, so allauth asks them to confirm it at first sign-in); an
    existing one the sign-in page. Returns (user, link, created). Raises ValueError for an
    empty address."""
    address = (email or "").strip().lower()
    if not address:
        raise ValueError("An e-mail address is required.")
    user = User.objects.filter(email__iexact=address).first()
    if user is not None:
        return user, site_link(reverse("account_login")), False
    user = User.objects.create_user(email=address, full_name=full_name.strip()[:200])
    user.set_unusable_password()
    user.save(update_fields=["password"])
    EmailAddress.objects.create(user=user, email=address, verified=False, primary=True)
    key = f"{user_pk_to_url_str(user)}-{default_token_generator.make_token(user)}"
    return user, get_adapter().get_reset_password_from_key_url(key), True
