"""Demo accounts, sample documents and a demo application, so that a fresh install can be tried."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from django.conf import settings
from django.db import transaction

from accounts.models import ADMINS_GROUP, REVIEWERS_GROUP, User
from accounts.roles import staff_groups_ensure
from accounts.services import user_email_mark_verified
from applications.models import Application
from applications.services import application_create
from extraction.catalog import document_types_sync
from rules.services import rules_sync
from samples.generate import generate_samples

# Fixed, printed on start: these accounts exist only in a demo database.
DEMO_ACCOUNTS = (
    ("applicant@demo.attest", "attest-applicant", "Jordan A. Rivera", None),
    ("reviewer@demo.attest", "attest-reviewer", "Riley Chen", REVIEWERS_GROUP),
    ("admin@demo.attest", "attest-admin", "Avery Patel", ADMINS_GROUP),
)


@dataclass
class DemoSetup:
    accounts: list[tuple[str, str, str]]  # (role, e-mail, password)
    samples_dir: Path
    samples: list[Path]
    application: Application


@transaction.atomic
def demo_setup(*, samples_dir: Path | None = None) -> DemoSetup:
    """Create what the demo needs; idempotent, and it never resets a changed password."""
    document_types_sync()
    rules_sync()
    groups = staff_groups_ensure()
    accounts = []
    users = {}
    for email, password, name, group_name in DEMO_ACCOUNTS:
        user = User.objects.filter(email=email).first()
        if user is None:
            user = User.objects.create_user(email=email, password=password, full_name=name)
        # Demo accounts sign in without a confirmation e-mail.
        user_email_mark_verified(user=user)
        if group_name:
            user.groups.add(groups[group_name])
            if not user.is_staff:
                user.is_staff = True
                user.save(update_fields=["is_staff"])
        if group_name == ADMINS_GROUP and not user.is_superuser:
            # The demo admin may also manage document types and users in Django's admin.
            user.is_superuser = True
            user.save(update_fields=["is_superuser"])
        users[email] = user
        role = (group_name or "Applicants").removesuffix("s").lower()
        accounts.append((role, email, password))

    applicant = users[DEMO_ACCOUNTS[0][0]]
    application = applicant.applications.order_by("created_at").first()
    if application is None:
        application = application_create(
            owner=applicant,
            title="Apartment rental: 14 Harbor Street",
            stated_name="Jordan A. Rivera",
            stated_employer="Northwind Logistics LLC",
            stated_monthly_income=Decimal("5200.00"),
        )
    samples_dir = samples_dir or Path(settings.VAR_DIR) / "samples"
    samples = sorted(samples_dir.glob("*.pdf")) + sorted(samples_dir.glob("*.png"))
    if not samples:
        samples = generate_samples(samples_dir)
    return DemoSetup(accounts, samples_dir, samples, application)
