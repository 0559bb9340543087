"""An application with every shipped document type, consistent unless a test says otherwise."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from applications.services import application_create
from tests.builders import document_with_fields
from tests.factories import AdminFactory, ReviewerFactory, UserFactory


def ago(days: int) -> str:
    return (timezone.now().date() - timedelta(days=days)).isoformat()


def consistent_values() -> dict[str, dict[str, str]]:
    """Values that agree with each other and with the applicant's statement."""
    return {
        "pay_stub": {
            "employee_name": "Jordan A. Rivera",
            "employer_name": "Northwind Logistics LLC",
            "pay_period_start": ago(24),
            "pay_period_end": ago(10),
            "pay_date": ago(5),
            "gross_pay": "2,600.00",
            "total_deductions": "612.40",
            "net_pay": "1,987.60",
            "ytd_gross": "52,000.00",
        },
        "bank_statement": {
            "account_holder": "Jordan Rivera",
            "bank_name": "First Community Bank",
            "account_number": "****1234",
            "statement_start": ago(40),
            "statement_end": ago(10),
            "opening_balance": "1,000.00",
            "total_deposits": "5,200.00",
            "total_withdrawals": "4,000.00",
            "closing_balance": "2,200.00",
        },
        "w2": {
            "tax_year": "2025",
            "employee_name": "JORDAN RIVERA",
            "employee_ssn": "123-45-6789",
            "employer_name": "Northwind Logistics, L.L.C.",
            "employer_ein": "12-3456789",
            # 2,600.00 for 15 days is 63,266.67 a year.
            "wages": "63,000.00",
            "federal_tax_withheld": "8,000.00",
        },
        "drivers_license": {
            "full_name": "Rivera, Jordan A",
            "id_number": "D1234567",
            "date_of_birth": "1990-04-01",
            "expiration_date": (timezone.now().date() + timedelta(days=365)).isoformat(),
            "issuing_state": "CA",
        },
    }


@pytest.fixture
def applicant(db):
    return UserFactory(email="jordan@example.com")


@pytest.fixture
def reviewer(db):
    return ReviewerFactory(email="reviewer@example.com")


@pytest.fixture
def admin_user(db):
    return AdminFactory(email="admin@example.com")


@pytest.fixture
def build(applicant, shipped_types):
    """build(overrides) -> (application, {type key: document}); overrides replace values."""

    def make(overrides: dict | None = None, *, owner=None, metadata: dict | None = None):
        application = application_create(
            owner=owner or applicant,
            stated_name="Jordan Rivera",
            stated_employer="Northwind Logistics",
            stated_monthly_income=5200,
        )
        documents = {}
        for key, values in consistent_values().items():
            values = {**values, **(overrides or {}).get(key, {})}
            document = document_with_fields(application, shipped_types[key], values)
            if metadata and key in metadata:
                document.metadata = metadata[key]
                document.save(update_fields=["metadata"])
            documents[key] = document
        return application, documents

    return make
