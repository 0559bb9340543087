"""The API's writes: keys (create, authenticate, revoke), idempotent requests, and creating an
application on an applicant's behalf. The screens' services do the domain work; these add only
what the API itself needs."""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal

from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.utils import timezone

from accounts.services import user_find_or_invite
from applications.claims import actor_role
from applications.models import Application
from applications.services import application_create
from audit.models import Action
from audit.services import audit_record

from .errors import ApiError
from .models import ApiIntake, ApiKey, IdempotencyRecord, Scope

KEY_PREFIX = "attest"
ALL_SCOPES = frozenset(Scope.values)


@dataclass(frozen=True)
class Caller:
    """Who is calling: a signed-in person (every scope their role allows), or an API key
    acting as its user within its scopes."""

    user: object
    key: ApiKey | None = None
    scopes: frozenset[str] = field(default=ALL_SCOPES)

    @property
    def identity(self) -> str:
        """What idempotency keys and rate limits are counted per."""
        return f"key:{self.key.pk}" if self.key is not None else f"user:{self.user.pk}"

    def require(self, scope: str) -> None:
        if scope not in self.scopes:
            raise ApiError(
                403,
                "scope_missing",
                f"This API key does not have the {scope} scope. Ask an admin for a key with it.",
            )


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def api_key_create(*, name: str, scopes, user, actor) -> tuple[ApiKey, str]:
    """Create a key acting as ``user`` with ``scopes`` (a subset of read, write, decide) and
    return it with its secret, ``attest_<prefix>_<secret>``, which is not stored and cannot be
    shown again. Recorded in the trail. Raises ValueError for no name or no known scope."""
    name = (name or "").strip()[:100]
    wanted = sorted(set(scopes) & ALL_SCOPES)
    if not name:
        raise ValueError("Give the key a name that says who uses it.")
    if not wanted or len(wanted) != len(set(scopes)):
        raise ValueError("Choose at least one scope: read, write or decide.")
    prefix = secrets.token_hex(6)
    token = f"{KEY_PREFIX}_{prefix}_{secrets.token_urlsafe(32)}"
    with transaction.atomic():
        key = ApiKey.objects.create(
            name=name,
            prefix=prefix,
            secret_hash=_hash(token),
            scopes=wanted,
            user=user,
            created_by=actor,
        )
        audit_record(
            action=Action.API_KEY_CREATED,
            actor=actor,
            role=actor_role(actor),
            subject=key,
            data={"name": name, "prefix": prefix, "scopes": wanted, "acts_as": user.email},
        )
    return key, token


def api_key_revoke(*, key: ApiKey, actor) -> ApiKey:
    """Revoke a key at once (every later request with it answers 401); idempotent."""
    with transaction.atomic():
        locked = ApiKey.objects.select_for_update().get(pk=key.pk)
        if locked.revoked_at is not None:
            return locked
        locked.revoked_at = timezone.now()
        locked.revoked_by = actor
        locked.save(update_fields=["revoked_at", "revoked_by"])
        audit_record(
            action=Action.API_KEY_REVOKED,
            actor=actor,
            role=actor_role(actor),
            subject=locked,
            data={"name": locked.name, "prefix": locked.prefix},
        )
    return locked


def api_key_authenticate(token: str) -> ApiKey:
    """The active key ``token`` belongs to, or ApiError 401 (unknown, malformed or revoked).
    The hash is compared in constant time; last use is recorded at most once a minute."""
    parts = (token or "").split("_", 2)
    if len(parts) != 3 or parts[0] != KEY_PREFIX:
        raise ApiError(401, "key_invalid", "This API key is not valid. Check it and try again.")
    key = ApiKey.objects.select_related("user").filter(prefix=parts[1]).first()
    if key is None or not hmac.compare_digest(key.secret_hash, _hash(token)):
        raise ApiError(401, "key_invalid", "This API key is not valid. Check it and try again.")
    if key.revoked_at is not None:
        raise ApiError(401, "key_revoked", "This API key was revoked. Ask an admin for a new one.")
    if not key.user.is_active:
        raise ApiError(401, "key_invalid", "The account this key acts for is disabled.")
    now = timezone.now()
    if key.last_used_at is None or now - key.last_used_at > timedelta(minutes=1):
        ApiKey.objects.filter(pk=key.pk).update(last_used_at=now)
    return key


def api_key_used_for_decision(*, caller: Caller, application, decision) -> None:
    """A decision taken with a key: the trail says which key (call in the decision's
    transaction)."""
    if caller.key is None:
        return
    audit_record(
        action=Action.API_KEY_USED,
        actor=caller.user,
        role=actor_role(caller.user),
        application=application,
        subject=caller.key,
        data={"prefix": caller.key.prefix, "name": caller.key.name, "decision": decision.kind},
    )


# --- Idempotency ----------------------------------------------------------------------------

# A retry waits this long for the first request with its key to finish before it is told to
# try again later (409); a claim older than STALE_AFTER is taken to be abandoned.
WAIT_SECONDS = 10.0
STALE_AFTER = timedelta(minutes=5)


def fingerprint(*parts) -> str:
    """A digest of what identifies a request (method, path, body), to tell a retry from a
    different request that reuses an idempotency key."""
    return hashlib.sha256(json.dumps(parts, default=str, sort_keys=True).encode()).hexdigest()


def _claim(*, caller: str, key: str, digest: str) -> IdempotencyRecord | tuple[int, dict]:
    """Claim the key (a new pending record, committed at once so that concurrent retries see
    it), or return the stored answer of the request that claimed it first."""
    deadline = time.monotonic() + WAIT_SECONDS
    while True:
        try:
            with transaction.atomic():
                return IdempotencyRecord.objects.create(
                    caller=caller, key=key, fingerprint=digest, created_at=timezone.now()
                )
        except IntegrityError:
            record = IdempotencyRecord.objects.filter(caller=caller, key=key).first()
        if record is None:  # released by a failed first attempt in between: claim again
            continue
        if record.fingerprint != digest:
            raise ApiError(
                422,
                "idempotency_key_reused",
                "This Idempotency-Key was used for a different request. Use a new key for a "
                "new request.",
            )
        if record.state == IdempotencyRecord.State.DONE:
            return record.status_code, record.body
        if timezone.now() - record.created_at > STALE_AFTER:
            taken = IdempotencyRecord.objects.filter(
                pk=record.pk, state=record.State.PENDING, created_at=record.created_at
            ).update(created_at=timezone.now())
            if taken:
                record.refresh_from_db()
                return record
        if time.monotonic() > deadline:
            raise ApiError(
                409,
                "idempotency_in_progress",
                "A request with this Idempotency-Key is still being processed. Try again in a "
                "moment to get its answer.",
                headers={"Retry-After": "2"},
            )
        time.sleep(0.05)


def idempotent(
    *,
    caller: Caller,
    key: str | None,
    digest: str,
    perform: Callable[[], tuple[int, dict]],
    atomic: bool = True,
) -> tuple[int, dict, bool]:
    """Run ``perform`` once per (caller, Idempotency-Key) and return (status, body, replayed).

    Without a key, ``perform`` just runs. With one, the first request claims it; concurrent
    and later retries with the same request wait for and replay its answer; a different
    request with the same key is refused (422). A request that fails (ApiError or any other
    exception) releases the key, having created nothing, so that a retry runs again.
    ``atomic`` runs ``perform`` and the stored answer in one transaction, so that a crash
    between them cannot leave something created without its answer; uploads run outside it
    (the file check takes seconds) and are protected by the per-application duplicate check
    instead.
    """
    if not key:
        status, body = perform()
        return status, body, False
    if len(key) > 200:
        raise ApiError(
            422, "idempotency_key_invalid", "An Idempotency-Key is at most 200 characters."
        )
    claimed = _claim(caller=caller.identity, key=key, digest=digest)
    if not isinstance(claimed, IdempotencyRecord):
        return claimed[0], claimed[1], True
    record = claimed

    def finish() -> tuple[int, dict]:
        status, body = perform()
        IdempotencyRecord.objects.filter(pk=record.pk).update(
            state=IdempotencyRecord.State.DONE, status_code=status, body=body
        )
        return status, body

    try:
        if atomic:
            with transaction.atomic():
                status, body = finish()
        else:
            status, body = finish()
    except BaseException:
        IdempotencyRecord.objects.filter(
            pk=record.pk, state=IdempotencyRecord.State.PENDING
        ).delete()
        raise
    return status, body, False


# --- Applications on an applicant's behalf -------------------------------------------------


def application_create_for_applicant(
    *,
    caller: Caller,
    applicant_email: str | None,
    applicant_name: str = "",
    stated_name: str,
    stated_employer: str = "",
    stated_monthly_income: Decimal | None = None,
    title: str = "",
) -> Application:
    """Create an application. A signed-in person creates one of their own (``applicant_email``
    empty or theirs). A key with the write scope creates it for the applicant with that
    address: an account is made for a new address (allauth's set-a-password link) and the
    applicant is e-mailed to check and confirm in the app; the key's user may then read it and
    upload to it (``ApiIntake``). Raises ApiError 403 for someone else's address without a
    key."""
    caller.require(Scope.WRITE)
    email = (applicant_email or "").strip().lower()
    if caller.key is None:
        if email and email != caller.user.email.lower():
            raise ApiError(
                403,
                "not_allowed",
                "Signed in, you can create applications only for yourself. Use an API key to "
                "create one for an applicant.",
            )
        return application_create(
            owner=caller.user,
            stated_name=stated_name,
            stated_employer=stated_employer,
            stated_monthly_income=stated_monthly_income,
            title=title,
        )
    if not email:
        raise ApiError(422, "invalid", "applicant_email: give the applicant's e-mail address.")
    with transaction.atomic():
        applicant, link, created = user_find_or_invite(
            email=email, full_name=applicant_name or stated_name
        )
        if applicant.pk == caller.user.pk or applicant.is_staff or applicant.is_reviewer:
            raise ApiError(
                422,
                "invalid",
                "applicant_email: applications are for applicants, not for staff accounts.",
            )
        application = application_create(
            owner=applicant,
            stated_name=stated_name,
            stated_employer=stated_employer,
            stated_monthly_income=stated_monthly_income,
            title=title,
            actor=caller.user,
            via=f"api key {caller.key.prefix}",
        )
        ApiIntake.objects.create(application=application, user=caller.user, key=caller.key)
        _invite(application=application, link=link, new_account=created)
    return application


def _invite(*, application: Application, link: str, new_account: bool) -> None:
    body = render_to_string(
        "emails/api_invitation.txt",
        {"application": application, "link": link, "new_account": new_account},
    )
    recipient = application.owner.email
    subject = f"Attest: please check application {application.reference}"
    transaction.on_commit(lambda: _deliver(subject, body, recipient), robust=True)


def _deliver(subject: str, body: str, recipient: str) -> None:
    send_mail(subject, body, None, [recipient])
