"""E-mails to applicants at the moments they need to act or hear back.

Sent after the transaction commits, so nobody hears of a change that was rolled back; a failing
mail server is logged and never undoes the change itself.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse

logger = logging.getLogger(__name__)


def send_application_mail(
    *, template: str, subject: str, application, context: dict | None = None
) -> None:
    link = settings.SITE_URL.rstrip("/") + reverse("application_detail", args=[application.pk])
    body = render_to_string(
        f"emails/{template}.txt", {"application": application, "link": link, **(context or {})}
    )
    recipient = application.owner.email

    def deliver() -> None:
        try:
            send_mail(subject, body, None, [recipient])
        except Exception:
            logger.exception("Could not e-mail %s about %s", recipient, application.reference)

    transaction.on_commit(deliver)


def notify_documents_read(*, application) -> None:
    send_application_mail(
        template="documents_read",
        subject=f"Attest: your documents for {application.reference} are ready to check",
        application=application,
    )
