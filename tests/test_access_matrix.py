"""The access matrix: every URL pattern x every kind of person x GET and POST.

Generated from the URL configuration, so a new pattern without an entry in ``RULES`` fails
``test_every_url_pattern_has_an_access_rule``. For each pattern the objects it names are taken
from a world holding a draft application and a submitted one (both with a document, pages and
fields), and each person's answer is judged: "allowed" is any answer but 403, 404, 405, a
redirect to a sign-in page or a server error; "denied" is 403, 404, 405 or that redirect. A
"denied" person who is allowed is a leak; the test counts leaks and expects 0.

Django admin is covered the same way: the change and history pages of every registered model,
for a row of the draft and a row of the submitted application.

The REST API's routes (django-ninja, namespace ``api``) are patterns like any other: the
signed-in people above call them with the session cookie, a POST carries a valid body
(``API_POST_BODIES``) so that the answer is about access rather than about the body, and 401
counts as denied. ``test_no_api_route_leaks_to_a_key_it_is_not_for`` walks them again with API
keys of each scope, and a revoked one (``KEY_RULES``).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

import pytest
from django.contrib import admin
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from api.models import ApiKey
from api.services import api_key_create, api_key_revoke
from applications.models import Application
from core.models import Job
from extraction.catalog import document_type_version_add
from extraction.models import DocumentType
from rules.models import Rule
from rules.selectors import RULE_JOBS
from rules.services import rules_sync
from tests.factories import AdminFactory, ReviewerFactory, UserFactory, png_bytes
from tests.review.conftest import build_document
from webhooks.models import Delivery, Endpoint
from webhooks.signing import secret_new

pytestmark = pytest.mark.django_db

ROLES = ("anonymous", "owner", "other_applicant", "reviewer", "admin")
STAFF = frozenset({"reviewer", "admin"})


@dataclass(frozen=True)
class Rule_:
    """Who may GET and who may POST, for the draft's objects and for the submitted ones."""

    get_draft: frozenset[str]
    get_submitted: frozenset[str]
    post_draft: frozenset[str]
    post_submitted: frozenset[str]


def both(get: set[str], post: set[str]) -> Rule_:
    return Rule_(frozenset(get), frozenset(get), frozenset(post), frozenset(post))


OWNER = {"owner"}
SIGNED_IN = {"owner", "other_applicant", "reviewer", "admin"}
# The applicant's own pages: staff may look once the application is submitted, never act.
APPLICANT_PAGE = Rule_(
    frozenset(OWNER), frozenset(OWNER | STAFF), frozenset(OWNER), frozenset(OWNER)
)
# Files: the owner, and staff once the application is submitted. GET only.
PRIVATE_FILE = Rule_(frozenset(OWNER), frozenset(OWNER | STAFF), frozenset(), frozenset())
REVIEW_PAGE = Rule_(frozenset(), frozenset(STAFF), frozenset(), frozenset(STAFF))

# Patterns whose answers are not about access: signing out, which sends everyone to the sign-in
# page, and the steps of a sign-in in progress (a code, a second factor), which send whoever has
# no sign-in in progress back to its start. tests/accounts/ covers each of them.
NOT_A_DOOR = {
    "account_logout",
    "account_confirm_login_code",
    "account_request_reauthentication_code",
    "account_confirm_reauthentication_code",
    "mfa_authenticate",
}

RULES: dict[str, Rule_] = {
    # django-allauth's pages (accounts/urls.py): signing in, up and out, e-mail confirmation,
    # password reset and two-factor set-up. Everyone, signed in or not, may open the sign-in
    # pages (a signed-in person is sent home); the account's own pages need a signed-in person.
    **{
        name: both(set(ROLES), set(ROLES))
        for name in (
            "account_login",
            "account_signup",
            "account_reset_password",
            # A made-up key answers "this link has expired" to everyone.
            "account_reset_password_from_key",
        )
    },
    "account_inactive": both(set(ROLES), set()),
    "account_email_verification_sent": both(set(ROLES), set()),
    # A made-up key: "this link has expired" on GET, 404 on POST, for everyone.
    "account_confirm_email": both(set(ROLES), set()),
    "account_reset_password_done": both(set(ROLES), set()),
    "account_reset_password_from_key_done": both(set(ROLES), set()),
    **{
        name: both(SIGNED_IN, SIGNED_IN)
        for name in (
            "account_email",
            "account_change_password",
            "account_set_password",
            "account_reauthenticate",
            "mfa_activate_totp",
            "mfa_generate_recovery_codes",
            "mfa_reauthenticate",
        )
    },
    "mfa_index": both(SIGNED_IN, set()),
    # Only for a person who has an authenticator (404 to everyone else; nobody here has one).
    **{
        name: both(set(), set())
        for name in (
            "mfa_deactivate_totp",
            "mfa_view_recovery_codes",
            "mfa_download_recovery_codes",
        )
    },
    "account_logout": both(set(), set(ROLES)),
    **{name: both(set(ROLES), set(ROLES)) for name in NOT_A_DOOR - {"account_logout"}},
    # Home sends each person to their start page, whatever the method.
    "home": both(SIGNED_IN, SIGNED_IN),
    "application_list": both(SIGNED_IN, SIGNED_IN),
    "application_detail": APPLICANT_PAGE,
    # The documents' progress, polled by the page: read-only.
    "application_documents": Rule_(
        frozenset(OWNER), frozenset(OWNER | STAFF), frozenset(), frozenset()
    ),
    "document_detail": APPLICANT_PAGE,
    "field_update": APPLICANT_PAGE,
    "document_original": PRIVATE_FILE,
    "page_image": PRIVATE_FILE,
    "review_queue": both(STAFF, set()),
    "review_application": REVIEW_PAGE,
    "revision_history": both({"admin"}, set()),
    "revision_history_export": both({"admin"}, set()),
    # Admins audit the whole trail, drafts included (what was removed before submission).
    "field_timeline": both({"admin"}, set()),
    "accuracy_report": both({"admin"}, set()),
    "throughput_report": both({"admin"}, set()),
    "rule_list": both({"admin"}, {"admin"}),
    "rule_create": both({"admin"}, {"admin"}),
    "rule_check": both(set(), {"admin"}),
    "rule_edit": both({"admin"}, {"admin"}),
    "history_verify": both(set(), {"admin"}),
    "rule_health": both({"admin"}, {"admin"}),
    # Whether OCR works here (200, or 503 with the reason): staff only.
    "ocr_health": both(STAFF, set()),
    "rule_job": both({"admin"}, set()),
    # Browsers report Content-Security-Policy violations here, signed in or not.
    "csp_report": both(set(), set(ROLES)),
    # Only the person who started the job.
    "job_status": both({"admin"}, set()),
    # Document types: defined, previewed, exported, imported and measured by admins only.
    "type_list": both({"admin"}, set()),
    "type_create": both({"admin"}, {"admin"}),
    "type_import": both(set(), {"admin"}),
    "type_edit": both({"admin"}, {"admin"}),
    "type_export": both({"admin"}, set()),
    "type_version": both({"admin"}, set()),
    "type_accuracy": both({"admin"}, {"admin"}),
    "type_accuracy_job": both({"admin"}, set()),
    # API keys: created, listed and revoked by admins only (api/screens.py).
    "api_key_list": both({"admin"}, {"admin"}),
    "api_key_revoke": both(set(), {"admin"}),
    # The REST API (api/views.py), with the session cookie: the screens' rules.
    # Anyone signed in lists what they may see and creates an application of their own.
    "api:applications": both(SIGNED_IN, SIGNED_IN),
    "api:application": Rule_(frozenset(OWNER), frozenset(OWNER | STAFF), frozenset(), frozenset()),
    # Uploads: the applicant only (on a submitted application, told it is locked: 409).
    "api:documents": Rule_(frozenset(), frozenset(), frozenset(OWNER), frozenset(OWNER)),
    "api:document_pages": PRIVATE_FILE,
    "api:page_image": PRIVATE_FILE,
    # The trail: admins, drafts included, as on the History screen.
    "api:application_events": both({"admin"}, set()),
    # Decisions: reviewers on a submitted application (this body's version is stale: 409).
    "api:decision": Rule_(frozenset(), frozenset(), frozenset(), frozenset(STAFF)),
    # The OpenAPI description and its docs page are public; unknown /api/ paths are 404.
    # The export of approved applications, as the queue's buttons: staff only.
    "api:approved_export": both(STAFF, set()),
    "api:openapi-json": both(set(ROLES), set()),
    "api:openapi-view": both(set(ROLES), set()),
    "api_not_found": both(set(), set()),
    # /api/v1/ itself: nothing there (ninja's root, used to build paths), 404.
    "api:api-root": both(set(), set()),
    # Exports of approved applications: staff who may view the application (a submitted one
    # that is not approved answers with a redirect to its review page), never the applicant.
    "application_export": Rule_(frozenset(), frozenset(STAFF), frozenset(), frozenset()),
    "approved_export": both(STAFF, set()),
    # Webhooks: endpoints, their secret, deliveries and resending are for admins only.
    "webhook_list": both({"admin"}, set()),
    "webhook_create": both({"admin"}, {"admin"}),
    "webhook_detail": both({"admin"}, {"admin"}),
    "webhook_secret": both(set(), {"admin"}),
    "webhook_delivery": both({"admin"}, set()),
    "webhook_resend": both(set(), {"admin"}),
}


def _api_body(name: str, *, key: bool = False) -> dict:
    """A valid body for a POST to an API route, so that its answer is about access (a key
    creates an application for an applicant by e-mail; a signed-in person one of their own)."""
    if name == "api:documents":
        from django.core.files.uploadedfile import SimpleUploadedFile

        return {"data": {"file": SimpleUploadedFile("m.png", png_bytes(text="matrix"))}}
    bodies = {
        "api:applications": {"stated_name": "Matrix"}
        | ({"applicant_email": "applicant@example.com"} if key else {}),
        "api:decision": {"kind": "reject", "version": "stale", "note": "Matrix"},
    }
    if name in bodies:
        return {"data": json.dumps(bodies[name]), "content_type": "application/json"}
    return {}


# API keys, each acting as a reviewer (or the admin) with the scopes its name says.
KEY_ROLES = ("key_read", "key_write", "key_decide", "key_admin", "key_revoked")
ACTIVE_KEYS = {"key_read", "key_write", "key_decide", "key_admin"}
KEY_RULES: dict[str, Rule_] = {
    "api:applications": Rule_(
        frozenset(ACTIVE_KEYS),
        frozenset(ACTIVE_KEYS),
        frozenset({"key_write", "key_admin"}),
        frozenset({"key_write", "key_admin"}),
    ),
    # A key sees what its user sees: submitted applications, not an applicant's draft.
    "api:application": Rule_(frozenset(), frozenset(ACTIVE_KEYS), frozenset(), frozenset()),
    # Only the applicant, or the integration that created the application, uploads.
    "api:documents": both(set(), set()),
    "api:document_pages": Rule_(frozenset(), frozenset(ACTIVE_KEYS), frozenset(), frozenset()),
    "api:page_image": Rule_(frozenset(), frozenset(ACTIVE_KEYS), frozenset(), frozenset()),
    "api:application_events": both({"key_admin"}, set()),
    "api:decision": Rule_(
        frozenset(), frozenset(), frozenset(), frozenset({"key_decide", "key_admin"})
    ),
    # The export of approved applications: any active key of a staff member (read scope).
    "api:approved_export": both(ACTIVE_KEYS, set()),
    "api:openapi-json": both(set(KEY_ROLES), set()),
    "api:openapi-view": both(set(KEY_ROLES), set()),
    "api_not_found": both(set(), set()),
    "api:api-root": both(set(), set()),
    # A key opens no screen: the screens know only sessions.
    "api_key_list": both(set(), set()),
    "api_key_revoke": both(set(), set()),
}


def _patterns(resolver: URLResolver, prefix: str = "", namespace: str = ""):
    """(route, name) of every named pattern; a namespaced one as "namespace:name"."""
    for pattern in resolver.url_patterns:
        if isinstance(pattern, URLResolver):
            if getattr(pattern, "app_name", None) == "admin":
                continue
            inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
            yield from _patterns(pattern, prefix + str(pattern.pattern), inner)
        elif isinstance(pattern, URLPattern) and pattern.name:
            yield prefix + str(pattern.pattern), namespace + pattern.name


@pytest.fixture
def world(staff_groups, shipped_types):
    owner = UserFactory(email="owner@example.com")
    people = {
        "owner": owner,
        "other_applicant": UserFactory(email="other@example.com"),
        "reviewer": ReviewerFactory(email="reviewer@example.com"),
        # As the demo admin: in the Admins group and a superuser.
        "admin": AdminFactory(email="admin@example.com", is_superuser=True),
    }
    draft = Application.objects.create(owner=owner, stated_name="Owner Draft")
    submitted = Application.objects.create(
        owner=owner,
        stated_name="Owner Submitted",
        status=Application.Status.SUBMITTED,
        submitted_at=timezone.now(),
    )
    objects = {}
    for state, application in (("draft", draft), ("submitted", submitted)):
        document, _, _ = build_document(application)
        objects[state] = {
            "application_id": application.pk,
            "document_id": document.pk,
            "number": 1,
            "field_id": document.fields.first().pk,
        }
    rules_sync()
    key = Rule.objects.order_by("key").first().key
    # A job of the rule engine's: its page is for any admin, the generic one for its starter.
    job = Job.objects.create(
        kind=sorted(RULE_JOBS)[0], label="Back-test", started_by=people["admin"]
    )
    # A type of the world's own at version 1, so that /types/lease/versions/1/ exists
    # whatever versions the shipped types have reached.
    lease = DocumentType.objects.create(
        key="lease",
        label="Lease",
        version=1,
        fields=[{"key": "tenant_name", "label": "Tenant", "kind": "name"}],
    )
    document_type_version_add(document_type=lease, actor=None, source="shipped")
    # An API key of the admin's, for the revoke screen (its own test revokes keys).
    api_key, _ = api_key_create(
        name="Matrix", scopes=["read"], user=people["reviewer"], actor=people["admin"]
    )
    endpoint = Endpoint.objects.create(
        url="http://127.0.0.1:9/hooks", secret=secret_new(), events=["application.decided"]
    )
    delivery = Delivery.objects.create(
        endpoint=endpoint,
        event_type="application.decided",
        source="matrix",
        message_id="msg_matrix",
        body="{}",
        next_attempt_at=timezone.now(),
    )
    for state in objects.values():
        state.update(
            {
                "key": key,
                "job_id": job.pk,
                "uidb36": "1",
                "token": "x-y",
                "type_key": "lease",
                "key_id": api_key.pk,
                "rest": "nowhere",
                "endpoint_id": endpoint.pk,
                "delivery_id": delivery.pk,
            }
        )
    return people, objects


def _client(people, role) -> Client:
    client = Client()
    if role != "anonymous":
        client.force_login(people[role])
    return client


def _judge(response) -> str:
    code = response.status_code
    if code >= 500:
        return "error"
    location = response.get("Location", "") if code in (301, 302) else ""
    if code in (401, 403, 404, 405) or "login" in location:
        return "denied"
    return "allowed"


def test_every_url_pattern_has_an_access_rule():
    names = {name for _, name in _patterns(get_resolver())}
    missing = sorted(names - set(RULES))
    assert not missing, f"Add these URL names to RULES with who may use them: {missing}"


def test_no_url_leaks_to_a_person_it_is_not_for(world):
    """Every pattern x role x method x (draft, submitted): leaks and server errors are 0."""
    people, objects = world
    leaks, errors, refused = [], [], []
    for route, name in _patterns(get_resolver()):
        if name in NOT_A_DOOR:
            continue
        rule = RULES[name]
        for state in ("draft", "submitted"):
            params = {k: v for k, v in objects[state].items() if re.search(rf"<(\w+:)?{k}>", route)}
            url = reverse(name, kwargs=params) if params else reverse(name)
            for role in ROLES:
                client = _client(people, role)
                for method in ("get", "post"):
                    allowed = getattr(rule, f"{method}_{state}")
                    body = _api_body(name) if method == "post" else {}
                    outcome = _judge(getattr(client, method)(url, **body))
                    label = f"{method.upper()} {url} as {role} ({state})"
                    if outcome == "error":
                        errors.append(label)
                    elif outcome == "allowed" and role not in allowed:
                        leaks.append(label)
                    elif outcome == "denied" and role in allowed:
                        refused.append(label)
    assert leaks == [], f"{len(leaks)} leaks: {leaks}"
    assert errors == [], f"{len(errors)} server errors: {errors}"
    assert refused == [], f"{len(refused)} refusals: {refused}"


def _admin_rows(objects, state):
    """(model admin URL name prefix, primary key) of every registered model's row that belongs
    to the application in ``state``."""
    from extraction.models import Document, ExtractionRun, Field, FieldRevision, Page
    from rules.models import Flag

    application_id = objects[state]["application_id"]
    rows = {
        Application: Application.objects.filter(pk=application_id),
        Document: Document.objects.filter(application_id=application_id),
        Page: Page.objects.filter(document__application_id=application_id),
        Field: Field.objects.filter(document__application_id=application_id),
        FieldRevision: FieldRevision.objects.filter(field__document__application_id=application_id),
        ExtractionRun: ExtractionRun.objects.filter(document__application_id=application_id),
        Flag: Flag.objects.filter(application_id=application_id),
    }
    for model, queryset in rows.items():
        assert model in admin.site._registry
        row = queryset.first()
        if row is not None:
            yield f"admin:{model._meta.app_label}_{model._meta.model_name}", model, row.pk


def test_django_admin_shows_no_row_of_an_application_a_person_may_not_see(world):
    people, objects = world
    leaks = []
    for state in ("draft", "submitted"):
        for prefix, model, pk in _admin_rows(objects, state):
            for role in ROLES:
                client = _client(people, role)
                user = people.get(role)
                may_view = (
                    state == "submitted"
                    and user is not None
                    and user.is_staff
                    and user.has_perm(f"{model._meta.app_label}.view_{model._meta.model_name}")
                )
                for page in ("change", "history"):
                    url = reverse(f"{prefix}_{page}", args=[pk])
                    response = client.get(url)
                    assert response.status_code < 500, url
                    shown = response.status_code == 200
                    if shown and not may_view:
                        leaks.append(f"GET {url} as {role} ({state})")
                    posted = client.post(reverse(f"{prefix}_change", args=[pk]), {})
                    assert posted.status_code < 500
                    location = posted.get("Location", "")
                    # A redirect to the list after POST on a change page would mean a saved change.
                    if (
                        posted.status_code == 302
                        and "login" not in location
                        and location.rstrip("/").endswith(prefix.split(":")[1])
                    ):
                        leaks.append(f"POST change {model.__name__} as {role} ({state})")
    assert leaks == [], leaks


def test_staff_without_an_authenticator_reach_no_page_but_its_set_up(world, settings):
    """With ATTEST_REQUIRE_STAFF_MFA on, every pattern (htmx or not, GET or POST, files, jobs,
    type screens, Django admin rows) sends a reviewer or admin without TOTP to set one up;
    only allauth's own pages and the CSP report stay open."""
    settings.ATTEST_REQUIRE_STAFF_MFA = True
    people, objects = world
    setup = reverse("mfa_activate_totp")
    opened = []
    for role in sorted(STAFF):
        client = _client(people, role)
        for route, name in _patterns(get_resolver()):
            if name.startswith(("account_", "mfa_")) or name == "csp_report":
                continue
            params = {
                k: v for k, v in objects["submitted"].items() if re.search(rf"<(\w+:)?{k}>", route)
            }
            url = reverse(name, kwargs=params) if params else reverse(name)
            for method in ("get", "post"):
                for headers in ({}, {"HX-Request": "true"}):
                    response = getattr(client, method)(url, headers=headers)
                    if name.startswith("api:"):
                        # The REST API answers in JSON: told, not redirected.
                        told = response.status_code == 403 and (
                            json.loads(response.content).get("code") == "mfa_required"
                        )
                        if not told:
                            opened.append(f"{method.upper()} {url} as {role}")
                        continue
                    sent = response.get("Location") or response.get("HX-Redirect")
                    if sent != setup:
                        opened.append(f"{method.upper()} {url} {headers} as {role}")
        for prefix, _, pk in _admin_rows(objects, "submitted"):
            url = reverse(f"{prefix}_change", args=[pk])
            if client.get(url).get("Location") != setup:
                opened.append(f"GET {url} as {role}")
    assert opened == []


def test_every_api_route_has_a_key_rule():
    names = {name for _, name in _patterns(get_resolver()) if name.startswith("api")}
    missing = sorted(names - set(KEY_RULES))
    assert not missing, f"Add these API URL names to KEY_RULES: {missing}"


def test_no_api_route_leaks_to_a_key_it_is_not_for(world):
    """Every API route (and the key screens) x key of each scope x GET and POST x (draft,
    submitted): leaks, server errors and wrong refusals are 0. A revoked key opens nothing
    but the public OpenAPI description."""
    people, objects = world
    secrets = {}
    for role, scopes, user in (
        ("key_read", ["read"], people["reviewer"]),
        ("key_write", ["read", "write"], people["reviewer"]),
        ("key_decide", ["read", "decide"], people["reviewer"]),
        ("key_admin", ["read", "write", "decide"], people["admin"]),
        ("key_revoked", ["read", "write", "decide"], people["admin"]),
    ):
        key, secrets[role] = api_key_create(name=role, scopes=scopes, user=user, actor=user)
        if role == "key_revoked":
            api_key_revoke(key=key, actor=people["admin"])
    leaks, errors, refused = [], [], []
    for route, name in _patterns(get_resolver()):
        if name not in KEY_RULES:
            continue
        rule = KEY_RULES[name]
        for state in ("draft", "submitted"):
            params = {k: v for k, v in objects[state].items() if re.search(rf"<(\w+:)?{k}>", route)}
            url = reverse(name, kwargs=params) if params else reverse(name)
            for role in KEY_ROLES:
                client = Client(headers={"Authorization": f"Bearer {secrets[role]}"})
                for method in ("get", "post"):
                    allowed = getattr(rule, f"{method}_{state}")
                    body = _api_body(name, key=True) if method == "post" else {}
                    outcome = _judge(getattr(client, method)(url, **body))
                    label = f"{method.upper()} {url} as {role} ({state})"
                    if outcome == "error":
                        errors.append(label)
                    elif outcome == "allowed" and role not in allowed:
                        leaks.append(label)
                    elif outcome == "denied" and role in allowed:
                        refused.append(label)
    assert ApiKey.objects.filter(revoked_at__isnull=True).count() == 5
    assert leaks == [], f"{len(leaks)} leaks: {leaks}"
    assert errors == [], f"{len(errors)} server errors: {errors}"
    assert refused == [], f"{len(refused)} refusals: {refused}"
