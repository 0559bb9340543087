"""A world for API tests: an applicant's draft and submitted applications (each with a read
document), people of every role, and API keys of every scope, plus a revoked one."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest
from django.test import Client
from django.utils import timezone

from api.services import api_key_create, api_key_revoke
from applications.models import Application
from tests.factories import AdminFactory, ReviewerFactory, UserFactory
from tests.review.conftest import build_document


@dataclass
class World:
    people: dict
    draft: Application
    submitted: Application
    keys: dict = field(default_factory=dict)

    def client(self, who: str | None = None) -> Client:
        """A test client: signed in as a person, or sending a key (``key:<name>``)."""
        if who is None:
            return Client()
        if who.startswith("key:"):
            return Client(headers={"Authorization": f"Bearer {self.keys[who[4:]]}"})
        client = Client()
        client.force_login(self.people[who])
        return client


@pytest.fixture
def world(staff_groups, shipped_types) -> World:
    owner = UserFactory(email="owner@example.com", full_name="Owen Owner")
    people = {
        "owner": owner,
        "other": UserFactory(email="other@example.com"),
        "reviewer": ReviewerFactory(email="reviewer@example.com"),
        "reviewer2": ReviewerFactory(email="reviewer2@example.com"),
        "admin": AdminFactory(email="admin@example.com", is_superuser=True),
    }
    draft = Application.objects.create(owner=owner, stated_name="Owen Owner")
    submitted = Application.objects.create(
        owner=owner,
        stated_name="Owen Owner",
        status=Application.Status.SUBMITTED,
        submitted_at=timezone.now(),
    )
    build_document(draft)
    build_document(submitted)
    world = World(people=people, draft=draft, submitted=submitted)
    admin = people["admin"]
    for name, scopes, user in (
        ("read", ["read"], people["reviewer"]),
        ("write", ["read", "write"], people["reviewer"]),
        ("decide", ["read", "decide"], people["reviewer"]),
        ("all", ["read", "write", "decide"], people["reviewer"]),
        ("other_reviewer", ["read", "write", "decide"], people["reviewer2"]),
        ("admin", ["read", "write", "decide"], admin),
        ("revoked", ["read", "write", "decide"], people["reviewer"]),
    ):
        key, secret = api_key_create(name=name, scopes=scopes, user=user, actor=admin)
        world.keys[name] = secret
        if name == "revoked":
            api_key_revoke(key=key, actor=admin)
    return world
