"""The admin's webhook screens: only admins, a secret shown once and on demand, deliveries
and their attempts, and resending one."""

from __future__ import annotations

import json

import pytest
from django.urls import reverse

from audit.models import AuditEvent
from tests.factories import AdminFactory, ReviewerFactory, UserFactory
from webhooks.models import Delivery, Endpoint, Event
from webhooks.services import delivery_send

from .helpers import decide, in_review

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin(staff_groups):
    return AdminFactory(email="admin@example.com")


@pytest.fixture
def delivery(endpoint, staff_groups):
    decide(in_review(UserFactory(email="a@example.com")), ReviewerFactory(email="r@example.com"))
    delivery = Delivery.objects.get(endpoint=endpoint)
    delivery_send(delivery_id=delivery.pk)
    return delivery


def _urls(endpoint, delivery):
    return {
        "get": [
            reverse("webhook_list"),
            reverse("webhook_create"),
            reverse("webhook_detail", args=[endpoint.pk]),
            reverse("webhook_delivery", args=[delivery.pk]),
        ],
        "post": [
            reverse("webhook_create"),
            reverse("webhook_detail", args=[endpoint.pk]),
            reverse("webhook_secret", args=[endpoint.pk]),
            reverse("webhook_resend", args=[delivery.pk]),
        ],
    }


def test_reviewers_and_applicants_cannot_open_or_change_webhooks(
    client_for, endpoint, delivery, staff_groups
):
    secret = endpoint.secret
    for person in (ReviewerFactory(email="r2@example.com"), UserFactory(email="u@example.com")):
        client = client_for(person)
        urls = _urls(endpoint, delivery)
        for url in urls["get"]:
            response = client.get(url)
            assert response.status_code == 403, url
            assert secret not in response.content.decode()
        for url in urls["post"]:
            response = client.post(url, {"rotate": "1", "url": "http://127.0.0.1/x"})
            assert response.status_code == 403, url
    endpoint.refresh_from_db()
    assert endpoint.secret == secret and Endpoint.objects.count() == 1
    assert delivery.attempts.count() == 1


def test_an_admin_adds_an_endpoint_and_sees_its_secret_once_then_on_demand(client_for, admin):
    client = client_for(admin)
    response = client.post(
        reverse("webhook_create"),
        {
            "url": "http://127.0.0.1:9/hooks",
            "events": [Event.DOCUMENT_READ, Event.APPLICATION_DECIDED],
            "is_active": "on",
        },
    )
    endpoint = Endpoint.objects.get()
    assert response.url == reverse("webhook_detail", args=[endpoint.pk])
    assert endpoint.secret.startswith("whsec_") and len(endpoint.secret) == 38
    assert endpoint.events == [Event.DOCUMENT_READ, Event.APPLICATION_DECIDED]
    detail = reverse("webhook_detail", args=[endpoint.pk])
    assert endpoint.secret in client.get(detail).content.decode()
    assert endpoint.secret not in client.get(detail).content.decode()  # once
    client.post(reverse("webhook_secret", args=[endpoint.pk]), {"reveal": "1"})
    assert endpoint.secret in client.get(detail).content.decode()

    old = endpoint.secret
    client.post(reverse("webhook_secret", args=[endpoint.pk]), {"rotate": "1"})
    endpoint.refresh_from_db()
    assert endpoint.secret != old
    assert endpoint.secret in client.get(detail).content.decode()

    client.post(
        detail,
        {"url": "http://127.0.0.1:9/other", "events": [Event.DOCUMENT_READ], "is_active": "on"},
    )
    endpoint.refresh_from_db()
    assert endpoint.url == "http://127.0.0.1:9/other" and endpoint.events == [Event.DOCUMENT_READ]

    # Every change to where events go is in the audit trail, in the admin's name, and no
    # secret (old or new) is copied into it.
    events = list(AuditEvent.objects.filter(action__startswith="webhook."))
    assert [event.action for event in events] == [
        "webhook.endpoint_created",
        "webhook.secret_shown",
        "webhook.secret_replaced",
        "webhook.endpoint_changed",
    ]
    assert {event.actor_id for event in events} == {admin.pk}
    assert events[-1].data["changes"]["url"] == {
        "from": "http://127.0.0.1:9/hooks",
        "to": "http://127.0.0.1:9/other",
    }
    trail = json.dumps([event.data for event in events])
    assert old not in trail and endpoint.secret not in trail


def test_a_refused_url_is_a_plain_error_and_nothing_is_saved(client_for, admin, settings):
    settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = False
    client = client_for(admin)
    response = client.post(
        reverse("webhook_create"),
        {"url": "http://169.254.169.254/latest", "events": [Event.DOCUMENT_READ]},
    )
    assert response.status_code == 400
    assert "private or local address" in response.content.decode()
    response = client.post(reverse("webhook_create"), {"url": "ftp://example.com/x"})
    page = response.content.decode()
    assert "Use an http:// or https:// address." in page and "Choose at least one event." in page
    assert not Endpoint.objects.exists()


def test_an_admin_sees_deliveries_and_attempts_and_resends_one(client_for, admin, delivery):
    client = client_for(admin)
    page = client.get(reverse("webhook_detail", args=[delivery.endpoint_id])).content.decode()
    assert delivery.message_id in page and "Delivered" in page
    page = client.get(reverse("webhook_delivery", args=[delivery.pk])).content.decode()
    assert "200" in page and "application.decided" in page

    response = client.post(reverse("webhook_resend", args=[delivery.pk]))
    assert response.status_code == 302
    delivery.refresh_from_db()
    assert delivery.status == Delivery.Status.PENDING and delivery.resent_by == admin
    resent = AuditEvent.objects.get(action="webhook.delivery_resent")
    assert resent.actor == admin and resent.data["message_id"] == delivery.message_id
