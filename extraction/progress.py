"""The application's side of a document's reading: its status follows its documents."""

from __future__ import annotations

from django.db import transaction

from applications.models import Application
from applications.services import application_lock, application_reading_changed

from .models import Document


def application_documents_changed(*, application: Application | int) -> Application:
    """Move the application to `processing` while any document is queued or being read, and to
    `awaiting_applicant` once all are finished. Call inside the transaction that changed a
    document; the application row stays locked until it commits."""
    with transaction.atomic():
        application = application_lock(application=application)
        reading = (
            Document.objects.filter(application=application)
            .exclude(status__in=Document.FINISHED)
            .exists()
        )
        return application_reading_changed(application=application, reading=reading)
