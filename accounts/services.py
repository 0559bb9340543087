"""Account writes that happen outside allauth's own screens."""

from __future__ import annotations

from allauth.account.models import EmailAddress

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
