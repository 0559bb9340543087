"""The admin's API keys screen: a key is shown once, stored hashed, revoked at once, and each
step is in the audit trail."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from api.models import ApiKey
from audit.models import Action, AuditEvent

pytestmark = pytest.mark.django_db


def test_an_admin_creates_a_key_that_is_shown_once_and_works(world):
    admin = world.client("admin")
    page = admin.post(
        reverse("api_key_list"),
        {"name": "Lender portal", "user": world.people["reviewer"].pk, "scopes": ["read", "write"]},
    )
    assert page.status_code == 302
    page = admin.get(page["Location"])
    assert page["Cache-Control"] == "no-store"
    secret = re.search(r'id="new-api-key">([^<]+)<', page.content.decode()).group(1)
    key = ApiKey.objects.get(name="Lender portal")
    assert key.scopes == ["read", "write"] and key.user == world.people["reviewer"]
    assert secret not in key.secret_hash
    # Never again: the list shows its prefix only, and the session has forgotten it.
    assert "api_key_secret" not in admin.session
    listing = admin.get(reverse("api_key_list")).content.decode()
    assert key.prefix in listing and secret not in listing
    event = AuditEvent.objects.get(action=Action.API_KEY_CREATED, subject_id=str(key.pk))
    assert event.actor == world.people["admin"] and event.data["scopes"] == ["read", "write"]
    assert "secret" not in str(event.data) and secret not in str(event.data)
    response = world.client().get(
        "/api/v1/applications", headers={"Authorization": f"Bearer {secret}"}
    )
    assert response.status_code == 200


def test_a_key_needs_a_name_and_a_scope_and_acts_only_for_staff(world):
    admin = world.client("admin")
    before = ApiKey.objects.count()
    for data in (
        {"name": "", "user": world.people["reviewer"].pk, "scopes": ["read"]},
        {"name": "No scope", "user": world.people["reviewer"].pk, "scopes": []},
        {"name": "Applicant", "user": world.people["owner"].pk, "scopes": ["read"]},
    ):
        page = admin.post(reverse("api_key_list"), data)
        assert page.status_code == 200 and b'class="field-error"' in page.content
    assert ApiKey.objects.count() == before


def test_revoking_a_key_stops_it_at_once_and_is_recorded(world):
    key = ApiKey.objects.get(name="read")
    client = world.client("key:read")
    assert client.get("/api/v1/applications").status_code == 200
    response = world.client("admin").post(reverse("api_key_revoke", args=[key.pk]))
    assert response.status_code == 302
    assert client.get("/api/v1/applications").status_code == 401
    key.refresh_from_db()
    assert key.revoked_by == world.people["admin"]
    assert (
        AuditEvent.objects.filter(action=Action.API_KEY_REVOKED, subject_id=str(key.pk)).count()
        == 1
    )
    # Revoking twice records nothing more.
    world.client("admin").post(reverse("api_key_revoke", args=[key.pk]))
    assert (
        AuditEvent.objects.filter(action=Action.API_KEY_REVOKED, subject_id=str(key.pk)).count()
        == 1
    )


def test_only_admins_reach_the_keys_screen(world):
    key = ApiKey.objects.get(name="read")
    for who in ("owner", "other", "reviewer"):
        client = world.client(who)
        assert client.get(reverse("api_key_list")).status_code == 403
        assert client.post(reverse("api_key_revoke", args=[key.pk])).status_code == 403
    key.refresh_from_db()
    assert key.revoked_at is None


def test_key_events_read_on_the_history_screen_and_its_export(world):
    admin = world.client("admin")
    history = admin.get(reverse("revision_history"))
    assert history.status_code == 200
    assert b"API key created" in history.content and b"API key revoked" in history.content
    assert admin.get(reverse("revision_history_export")).status_code == 200
