"""Documents and flags leave their events in the audit trail, in the name of who acted."""

from __future__ import annotations

import pytest

from applications.services import application_create
from audit.models import Action, AuditEvent
from extraction.models import Document
from extraction.services import document_set_type, document_upload
from review.services import field_correct
from rules.models import Flag
from rules.services import flags_refresh, rules_sync
from tests.builders import PAY_STUB_VALUES, document_with_fields, pdf_bytes, upload

pytestmark = pytest.mark.django_db


@pytest.fixture
def application(django_user_model):
    owner = django_user_model.objects.create_user(email="ann@example.com", password="x")
    return application_create(owner=owner, stated_name="Ann Example")


def _events(application, prefix: str):
    return list(
        AuditEvent.objects.filter(application_id=application.pk, action__startswith=prefix)
        .order_by("sequence")
        .values_list("action", "actor__email", "data")
    )


def test_adding_a_document_and_choosing_its_type_are_recorded(application, shipped_types):
    document = document_upload(
        application=application,
        uploaded_file=upload("stub.pdf", pdf_bytes(), "application/pdf"),
        actor=application.owner,
    )
    Document.objects.filter(pk=document.pk).update(status=Document.Status.NEEDS_MANUAL_ENTRY)
    document.refresh_from_db()
    document_set_type(
        document=document, document_type=shipped_types["pay_stub"], actor=application.owner
    )
    (added, added_by, added_data), (retyped, retyped_by, retyped_data) = _events(
        application, "document."
    )
    assert (added, added_by) == (Action.DOCUMENT_ADDED, "ann@example.com")
    assert added_data["name"] == "stub.pdf" and added_data["sha256"] == document.sha256
    assert (retyped, retyped_by) == (Action.DOCUMENT_RETYPED, "ann@example.com")
    assert (retyped_data["previous_type"], retyped_data["document_type"]) == ("", "pay_stub")


def test_flags_raised_and_resolved_by_the_rules_are_recorded_as_the_systems(
    application, shipped_types
):
    rules_sync()
    document = document_with_fields(
        application, shipped_types["pay_stub"], {**PAY_STUB_VALUES, "net_pay": "99,999.00"}
    )
    flags_refresh(application=application)
    raised = Flag.objects.get(application=application, rule_key="pay_stub_arithmetic")
    field = document.fields.get(key="net_pay")
    field_correct(field=field, value=PAY_STUB_VALUES["net_pay"], actor=application.owner)
    raised.refresh_from_db()
    assert raised.status == Flag.Status.RESOLVED
    events = [
        (action, data["rule"])
        for action, actor, data in _events(application, "flag.")
        if data["rule"] == "pay_stub_arithmetic"
    ]
    assert events == [
        (Action.FLAG_RAISED, "pay_stub_arithmetic"),
        (Action.FLAG_RESOLVED, "pay_stub_arithmetic"),
    ]
    assert all(actor is None for _, actor, _ in _events(application, "flag."))
