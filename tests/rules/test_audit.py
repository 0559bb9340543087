"""Rules created, changed, enabled and disabled, and document types changed, are audited."""

from __future__ import annotations

import pytest
from django.urls import reverse

from audit.models import Action, AuditEvent
from extraction.catalog import document_types_sync
from extraction.models import DocumentType
from rules.models import Rule
from rules.services import rule_create, rule_disable, rule_enable, rule_update, rules_sync

pytestmark = pytest.mark.django_db

RULE = {
    "key": "big_net",
    "title": "Big net pay",
    "expression": "doc.values.net_pay > 1000.0",
    "severity": "high",
    "scope": "pay_stub",
    "message": "Net pay {{ money(doc.values.net_pay) }}.",
}


def events(action: str) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=action).order_by("sequence"))


def test_each_rule_change_is_an_audit_event_saying_what_changed(admin_user, shipped_types):
    rule_create(actor=admin_user, note="For the pilot.", **RULE)
    (created,) = events(Action.RULE_CREATED)
    assert (created.actor, created.role, created.subject_type) == (admin_user, "admin", "rule")
    assert created.data["expression"] == RULE["expression"]
    assert created.data["severity"] == "high" and created.data["note"] == "For the pilot."

    rule = Rule.objects.get(key="big_net")
    rule_update(
        rule=rule,
        actor=admin_user,
        expression="doc.values.net_pay > 2000.0",
        severity="medium",
        note="Too many hits.",
    )
    (changed,) = events(Action.RULE_CHANGED)
    assert changed.data["changes"] == {
        "expression": {"from": RULE["expression"], "to": "doc.values.net_pay > 2000.0"},
        "severity": {"from": "high", "to": "medium"},
    }
    assert (changed.data["version"], changed.data["from_version"]) == (2, 1)
    assert changed.data["note"] == "Too many hits."

    rule_disable(rule=rule, actor=admin_user, note="Paused.")
    rule_enable(rule=rule, actor=admin_user)
    (disabled,) = events(Action.RULE_DISABLED)
    (enabled,) = events(Action.RULE_ENABLED)
    assert disabled.data["changes"] == {"enabled": {"from": True, "to": False}}
    assert disabled.data["note"] == "Paused."
    assert enabled.data["version"] == 4

    # A save that changes nothing adds no version and no event.
    rule_update(rule=rule, actor=admin_user, severity="medium")
    assert AuditEvent.objects.filter(subject_type="rule").count() == 4


def test_loading_the_pack_is_audited_as_the_system(shipped_types):
    rules_sync()
    created = events(Action.RULE_CREATED)
    assert len(created) == Rule.objects.count()
    assert {event.role for event in created} == {"system"}
    assert all(event.actor is None for event in created)
    rules_sync()  # idempotent: nothing new
    assert len(events(Action.RULE_CREATED)) == len(created)


def test_syncing_a_newer_shipped_document_type_is_audited(shipped_types):
    assert len(events(Action.DOCUMENT_TYPE_CHANGED)) == len(shipped_types)  # created
    pay_stub = shipped_types["pay_stub"]
    DocumentType.objects.filter(pk=pay_stub.pk).update(version=0, label="Old label")
    document_types_sync()
    event = events(Action.DOCUMENT_TYPE_CHANGED)[-1]
    assert event.role == "system" and event.subject_id == str(pay_stub.pk)
    assert event.data["changes"]["label"] == {"from": "Old label", "to": "Pay stub"}
    assert event.data["created"] is False
    document_types_sync()
    assert events(Action.DOCUMENT_TYPE_CHANGED)[-1] == event


def test_an_admin_changing_a_document_type_is_audited_with_the_fields_changed(
    client, django_user_model, shipped_types
):
    from tests.types.conftest import form_data

    boss = django_user_model.objects.create_superuser(email="boss@example.com", password="x")
    client.force_login(boss)
    pay_stub = shipped_types["pay_stub"]
    definition = {
        "key": pay_stub.key,
        "label": "Pay stub (US)",
        "description": pay_stub.description,
        "date_order": pay_stub.date_order,
        "currency": pay_stub.currency,
        "languages": pay_stub.languages,
        "keywords": pay_stub.keywords,
        "fields": [spec for spec in pay_stub.fields if spec["key"] != "ytd_gross"]
        + [{"key": "bonus", "label": "Bonus", "kind": "money"}],
    }
    response = client.post(
        reverse("type_edit", args=[pay_stub.key]),
        form_data(definition, based_on=pay_stub.version, is_active=True),
    )
    assert response.status_code == 302, response.content.decode()[-2000:]
    event = events(Action.DOCUMENT_TYPE_CHANGED)[-1]
    assert (event.actor, event.role) == (boss, "admin")
    assert event.data["changes"]["label"] == {"from": "Pay stub", "to": "Pay stub (US)"}
    assert event.data["changes"]["version"]["to"] == pay_stub.version + 1
    assert event.data["fields_added"] == ["bonus"]
    assert event.data["fields_removed"] == ["ytd_gross"]
    assert event.data["fields_changed"] == []
