from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    name = "webhooks"
    verbose_name = "Webhooks"

    def ready(self) -> None:
        # Webhooks sit on top: they listen to what the lower layers record, which never import
        # them (pyproject's import-linter contract).
        from django.db.models.signals import post_save

        from audit.models import AuditEvent
        from extraction.signals import document_finished

        from .receivers import after_audit_event, after_document_finished

        post_save.connect(after_audit_event, sender=AuditEvent, dispatch_uid="webhooks.audit")
        document_finished.connect(after_document_finished, dispatch_uid="webhooks.document")
