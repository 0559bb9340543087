from django.conf import settings
from django.db import models

from extraction.models import DocumentType, private_storage


def sample_upload_to(instance, filename: str) -> str:
    return f"type_samples/{instance.document_type_id}/{filename}"


class TypeSample(models.Model):
    """A labelled sample of a document type: a file and the values a person says it shows.

    Admins attach a few to a type to measure the readers on it before applicants depend on it
    (``evals.accuracy``). A sample is not a Document: it belongs to no application and is
    never shown outside the type's accuracy screen. ``expected`` maps each field key to the
    value the document shows, or null when it shows none.
    """

    document_type = models.ForeignKey(
        DocumentType, on_delete=models.CASCADE, related_name="samples"
    )
    file = models.FileField(upload_to=sample_upload_to, storage=private_storage, max_length=300)
    original_name = models.CharField(max_length=255)
    media_type = models.CharField(max_length=100)
    sha256 = models.CharField(max_length=64)
    expected = models.JSONField(default=dict)
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["document_type", "created_at"]

    def __str__(self) -> str:
        return f"{self.original_name} ({self.document_type.key})"
