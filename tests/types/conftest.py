from __future__ import annotations

import pytest
import yaml

from tests.factories import AdminFactory, ReviewerFactory, UserFactory


@pytest.fixture
def applicant(db):
    return UserFactory(email="jordan@example.com")


@pytest.fixture
def reviewer(db):
    return ReviewerFactory(email="reviewer@example.com")


@pytest.fixture
def admin_user(db, staff_groups):
    # staff_groups: a worker test before this one flushed the groups the migrations made.
    return AdminFactory(email="admin@example.com")


LEASE = {
    "key": "lease",
    "label": "Lease",
    "date_order": "DMY",
    "languages": ["en"],
    "keywords": [{"phrase": "Lease agreement", "weight": 3}],
    "fields": [
        {
            "key": "tenant_name",
            "label": "Tenant",
            "kind": "name",
            "required": True,
            "read": [{"labels": {"en": ["Tenant"]}}],
        },
        {
            "key": "monthly_rent",
            "label": "Monthly rent",
            "kind": "money",
            "required": True,
            "read": [{"labels": {"en": ["Monthly rent", "Rent"]}, "exclude": ["Rent deposit"]}],
        },
        {
            "key": "start_date",
            "label": "Start date",
            "kind": "date",
            "era": "recent",
            "read": [{"labels": {"en": ["Start date", "Commencing"]}}],
        },
    ],
}


def form_data(definition: dict, *, based_on=None, is_active=False, provider="", note="", **extra):
    """The editor's POST for ``definition``: the type's boxes, keyword rows and field rows."""
    data = {
        "key": definition.get("key", ""),
        "label": definition.get("label", ""),
        "description": definition.get("description", ""),
        "date_order": definition.get("date_order", ""),
        "currency": definition.get("currency", ""),
        "languages": ", ".join(definition.get("languages", [])),
        "provider": provider,
        "note": note,
        "save": "1",
    }
    if is_active:
        data["is_active"] = "on"
    if based_on is not None:
        data["based_on"] = str(based_on)
    keywords = definition.get("keywords", [])
    data.update(
        {
            "keywords-TOTAL_FORMS": str(len(keywords)),
            "keywords-INITIAL_FORMS": "0",
            "keywords-MIN_NUM_FORMS": "0",
            "keywords-MAX_NUM_FORMS": "200",
        }
    )
    for index, keyword in enumerate(keywords):
        data[f"keywords-{index}-phrase"] = keyword["phrase"]
        data[f"keywords-{index}-weight"] = str(keyword.get("weight", 1))
    fields = definition.get("fields", [])
    data.update(
        {
            "fields-TOTAL_FORMS": str(len(fields)),
            "fields-INITIAL_FORMS": "0",
            "fields-MIN_NUM_FORMS": "0",
            "fields-MAX_NUM_FORMS": "200",
        }
    )
    for index, spec in enumerate(fields):
        prefix = f"fields-{index}-"
        for name in ("key", "label", "hint", "era", "sign"):
            data[prefix + name] = spec.get(name, "")
        data[prefix + "kind"] = spec.get("kind", "text")
        if spec.get("required"):
            data[prefix + "required"] = "on"
        if spec.get("sensitive"):
            data[prefix + "sensitive"] = "on"
        if spec.get("choices"):
            data[prefix + "choices"] = ", ".join(spec["choices"])
        for name in ("columns", "read"):
            value = spec.get(name)
            if isinstance(value, str):
                data[prefix + name] = value
            elif value:
                data[prefix + name] = yaml.safe_dump(value, sort_keys=False)
    data.update(extra)
    return data
