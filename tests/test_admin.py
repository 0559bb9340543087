"""Every model is in Django's admin, and the audited ones cannot be edited there."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.urls import reverse

from applications.services import application_create
from tests.builders import document_with_fields

pytestmark = pytest.mark.django_db

MODELS = [
    "extraction.documenttype",
    "extraction.document",
    "extraction.page",
    "extraction.extractionrun",
    "extraction.field",
    "extraction.fieldrevision",
    "applications.application",
    "review.decision",
    "rules.flag",
    "accounts.user",
    "core.job",
]


@pytest.fixture
def superuser_client(client, django_user_model, shipped_types):
    boss = django_user_model.objects.create_superuser(email="boss@example.com", password="x")
    application = application_create(owner=boss, stated_name="Boss")
    document_with_fields(application, shipped_types["pay_stub"], {"net_pay": "10.00"})
    client.force_login(boss)
    return client


@pytest.mark.parametrize("model", MODELS)
def test_each_model_has_an_admin_list(superuser_client, model):
    app_label, model_name = model.split(".")
    response = superuser_client.get(reverse(f"admin:{app_label}_{model_name}_changelist"))
    assert response.status_code == 200


def test_history_and_decisions_are_read_only_in_the_admin(superuser_client, rf):
    from applications.models import Application
    from extraction.models import Field, FieldRevision
    from review.models import Decision

    request = rf.get("/")
    for model in (Field, FieldRevision, Decision, Application):
        model_admin = admin.site._registry[model]
        assert not model_admin.has_change_permission(request)
        assert not model_admin.has_delete_permission(request)
