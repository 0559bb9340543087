import hashlib

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.storage import storages
from django.db import models

from accounts.models import Role
from audit.canonical import iso_utc, json_scalar
from core.states import move


class FieldKind(models.TextChoices):
    TEXT = "text", "Text"
    NAME = "name", "Name"
    ADDRESS = "address", "Address"
    MONEY = "money", "Money"
    DATE = "date", "Date"
    INTEGER = "integer", "Whole number"
    SSN = "ssn", "Social Security number"
    EIN = "ein", "Employer ID number"
    ACCOUNT = "account", "Account number"
    CURRENCY = "currency", "Currency"
    # An invoice, order or receipt number as printed: one token with a digit.
    REFERENCE = "reference", "Reference number"
    ENUM = "enum", "Choice"
    # A list of rows (bank statement transactions); the value is the rows as JSON text.
    ROWS = "rows", "List of rows"


class DocumentType(models.Model):
    """A kind of paperwork and the fields to read from it. Data, not code: admins add more.

    ``fields`` is a list of field definitions (``extraction.type_definition.FieldDefinition``:
    key, label, kind, required, sensitive, hint, and ``read`` rules for the offline reader);
    ``extraction.schemas`` turns it into the model's JSON schema.
    """

    key = models.SlugField(max_length=50, unique=True)
    label = models.CharField(max_length=100)
    version = models.PositiveIntegerField(default=1)
    description = models.TextField(blank=True)
    fields = models.JSONField(default=list)
    is_active = models.BooleanField(default=True)
    # Blank: EXTRACTION_PROVIDER. Otherwise 'local', 'openai' or 'anthropic' for this type only.
    provider = models.CharField(
        max_length=50,
        blank=True,
        help_text="Leave blank for the default reader; or local, openai or anthropic.",
    )
    # Blank: the deployment's EXTRACTION_DATE_ORDER. Receipts from a day-first country: DMY.
    date_order = models.CharField(
        max_length=3,
        blank=True,
        choices=[("MDY", "Month first"), ("DMY", "Day first"), ("YMD", "Year first")],
        help_text="How numeric dates on this type are read; blank for the deployment's order.",
    )
    # For the offline reader (``extraction.type_definition``): phrases and weights that tell
    # this type apart, its one currency when it has one, and the languages of its labels.
    keywords = models.JSONField(default=list, blank=True)
    currency = models.CharField(max_length=3, blank=True)
    languages = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["label"]

    def __str__(self) -> str:
        return self.label


class DocumentTypeVersion(models.Model):
    """One immutable version of a document type's definition (``type_definition``'s shape,
    without ``version``). Saving a changed definition adds one; a reading records the version
    it used (``ExtractionRun.schema_version``: "receipt.v3.s2"), so what read a document can
    always be shown."""

    document_type = models.ForeignKey(
        DocumentType, on_delete=models.CASCADE, related_name="versions"
    )
    number = models.PositiveIntegerField()
    definition = models.JSONField()
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # Where it came from: "screen", "yaml import", "shipped" (the catalog sync), "migration".
    source = models.CharField(max_length=30, blank=True)
    note = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["document_type", "-number"]
        constraints = [
            models.UniqueConstraint(
                fields=["document_type", "number"], name="unique_document_type_version"
            )
        ]

    def __str__(self) -> str:
        return f"{self.document_type.key} v{self.number}"

    def save(self, *args, **kwargs):
        # Runs name the version that read them; a version that changed would lie.
        if self.pk is not None:
            raise ValueError("Document type versions are immutable; add a new version instead.")
        super().save(*args, **kwargs)


def private_storage():
    """Originals and page images live in the "private" storage, never under a served root."""
    return storages["private"]


def original_upload_to(instance, filename: str) -> str:
    return f"originals/{instance.application_id}/{filename}"


class DocumentManager(models.Manager):
    """Documents still part of their application: a document the applicant removed is kept
    (file, pages, values and their history, for the audit trail) but left out everywhere."""

    def get_queryset(self):
        return super().get_queryset().filter(removed_at__isnull=True)


class Document(models.Model):
    """One uploaded file of an application. The original is kept byte for byte."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        PROCESSING = "processing", "Reading"
        EXTRACTED = "extracted", "Read"
        NEEDS_MANUAL_ENTRY = "needs_manual_entry", "Needs your input"
        FAILED = "failed", "Failed"
        # The file held several documents; each part is a Document of its own (``parts``).
        SPLIT = "split", "Split into parts"

    S = Status
    TRANSITIONS = {
        S.QUEUED: frozenset({S.PROCESSING, S.FAILED}),
        S.PROCESSING: frozenset({S.EXTRACTED, S.NEEDS_MANUAL_ENTRY, S.FAILED, S.QUEUED, S.SPLIT}),
        S.EXTRACTED: frozenset({S.QUEUED}),
        S.NEEDS_MANUAL_ENTRY: frozenset({S.QUEUED}),
        S.FAILED: frozenset({S.QUEUED}),
        S.SPLIT: frozenset(),
    }
    FINISHED = frozenset({S.EXTRACTED, S.NEEDS_MANUAL_ENTRY, S.FAILED, S.SPLIT})

    application = models.ForeignKey(
        "applications.Application", on_delete=models.CASCADE, related_name="documents"
    )
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    document_type = models.ForeignKey(
        DocumentType, on_delete=models.PROTECT, null=True, blank=True, related_name="documents"
    )
    original = models.FileField(
        upload_to=original_upload_to, storage=private_storage, max_length=300
    )
    original_name = models.CharField(max_length=255)
    media_type = models.CharField(max_length=100)
    size = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64, db_index=True)
    page_count = models.PositiveIntegerField(default=0)
    metadata = models.JSONField(default=dict, blank=True)
    # A part of a file that held several documents: it shares the original file and sha256 of
    # ``split_from`` and covers that file's pages ``page_start``..``page_end`` (1-based).
    split_from = models.ForeignKey(
        "self", on_delete=models.CASCADE, null=True, blank=True, related_name="parts"
    )
    page_start = models.PositiveIntegerField(null=True, blank=True)
    page_end = models.PositiveIntegerField(null=True, blank=True)
    status = models.CharField(max_length=24, choices=Status, default=Status.QUEUED)
    # A failure or manual-entry reason: a stable code for programs, a sentence for people.
    reason_code = models.CharField(max_length=50, blank=True)
    reason = models.TextField(blank=True)
    pages_done = models.PositiveIntegerField(default=0)
    attempts = models.PositiveIntegerField(default=0)
    processing_started_at = models.DateTimeField(null=True, blank=True)
    # The reading that holds the document (``extraction.leases``): its owner ("host:pid:..."),
    # blank when no reading holds it, and when its hold ends unless its heartbeat renews it.
    lease_owner = models.CharField(max_length=120, blank=True)
    lease_expires_at = models.DateTimeField(null=True, blank=True)
    # When the task was last handed to the broker (for a retry: when it falls due); null when
    # the send failed or none was made, so that the recovery sweep sends it again.
    sent_at = models.DateTimeField(null=True, blank=True)
    # Set once every page is rendered and stored; pages are stored a slice at a time before.
    ingested_at = models.DateTimeField(null=True, blank=True)
    # The applicant removed it before submitting (review.services.document_remove).
    removed_at = models.DateTimeField(null=True, blank=True)
    removed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    # Every document, removed ones too (the base manager: a removed document's values still
    # reach their document); ``objects``, the default, leaves removed ones out.
    all_objects = models.Manager()
    objects = DocumentManager()

    class Meta:
        ordering = ["created_at", "id"]
        default_manager_name = "objects"
        base_manager_name = "all_objects"
        indexes = [
            models.Index(fields=["status", "processing_started_at"]),
            models.Index(fields=["status", "sent_at"]),
        ]

    def __str__(self) -> str:
        return self.original_name

    def move_to(self, target: str) -> None:
        move(self, target, self.TRANSITIONS)

    @property
    def is_finished(self) -> bool:
        return self.status in self.FINISHED


def page_image_upload_to(instance, filename: str) -> str:
    return f"pages/{instance.document_id}/{filename}"


class Page(models.Model):
    """A rendered page image and the words found on it, each with a box.

    ``words`` is a list of ``[text, x0, y0, x1, y1]`` with coordinates as fractions (0..1) of
    the page's width and height, origin top-left, so that boxes survive any display size.
    """

    class TextSource(models.TextChoices):
        TEXT_LAYER = "text_layer", "PDF text layer"
        OCR = "ocr", "OCR"
        NONE = "none", "No text"

    document = models.ForeignKey(Document, on_delete=models.CASCADE, related_name="pages")
    number = models.PositiveIntegerField()
    image = models.FileField(
        upload_to=page_image_upload_to, storage=private_storage, max_length=300
    )
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    text = models.TextField(blank=True)
    words = models.JSONField(default=list, blank=True)
    text_source = models.CharField(max_length=20, choices=TextSource, default=TextSource.NONE)

    class Meta:
        ordering = ["document", "number"]
        constraints = [
            models.UniqueConstraint(fields=["document", "number"], name="unique_page_number")
        ]

    def __str__(self) -> str:
        return f"{self.document} p.{self.number}"


class ExtractionRun(models.Model):
    """One reading of a document by one provider: what it cost and what it said."""

    class Outcome(models.TextChoices):
        OK = "ok", "OK"
        INVALID_OUTPUT = "invalid_output", "Invalid output"
        REFUSED = "refused", "Refused or empty"
        ERROR = "error", "Error"
        # Stopped before calling the provider: a page or call cap was reached.
        CAPPED = "capped", "Stopped by a spending cap"

    class Reading(models.TextChoices):
        PRIMARY = "primary", "Reading"
        SECOND = "second", "Second reading"

    document = models.ForeignKey(Document, on_delete=models.CASCADE, related_name="runs")
    provider = models.CharField(max_length=50)
    model = models.CharField(max_length=100, blank=True)
    prompt_version = models.CharField(max_length=20, blank=True)
    # The type's key and version with the schema generator's version: "pay_stub.v1.s2".
    schema_version = models.CharField(max_length=100, blank=True)
    reading = models.CharField(max_length=10, choices=Reading, default=Reading.PRIMARY)
    # The pages this call sent (1-based, of this document); empty for a cached reading.
    page_first = models.PositiveIntegerField(null=True, blank=True)
    page_last = models.PositiveIntegerField(null=True, blank=True)
    # sha256 of file, page range, type, provider, model, prompt and schema: equal keys read alike.
    cache_key = models.CharField(max_length=64, blank=True, db_index=True)
    cached_from = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="reused_by"
    )
    tokens_in = models.PositiveIntegerField(default=0)
    tokens_out = models.PositiveIntegerField(default=0)
    cost = models.DecimalField(max_digits=12, decimal_places=6, default=0)
    latency_ms = models.PositiveIntegerField(default=0)
    raw_response = models.TextField(blank=True)
    # The validated values this call read ({field key: value or null}), for merging and reuse.
    values = models.JSONField(default=dict, blank=True)
    outcome = models.CharField(max_length=20, choices=Outcome)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.provider}/{self.model} on {self.document} ({self.outcome})"


class Agreement(models.TextChoices):
    AGREE = "agree", "Both readings agree"
    DISAGREE = "disagree", "The readings disagree"
    # Only one reading found a value; the other found none.
    SINGLE = "single", "Only one reading found it"


class Field(models.Model):
    """One value of a document. Its history lives in FieldRevision; ``value`` is the latest."""

    class Status(models.TextChoices):
        PROPOSED = "proposed", "To check"
        CONFIRMED = "confirmed", "Confirmed"
        CORRECTED = "corrected", "Corrected"
        VERIFIED = "verified", "Verified"

    S = Status
    TRANSITIONS = {
        S.PROPOSED: frozenset({S.CONFIRMED, S.CORRECTED, S.VERIFIED}),
        S.CONFIRMED: frozenset({S.CORRECTED, S.VERIFIED, S.PROPOSED}),
        S.CORRECTED: frozenset({S.CONFIRMED, S.VERIFIED, S.PROPOSED}),
        S.VERIFIED: frozenset({S.CORRECTED}),
    }

    document = models.ForeignKey(Document, on_delete=models.CASCADE, related_name="fields")
    key = models.SlugField(max_length=50)
    label = models.CharField(max_length=100)
    kind = models.CharField(max_length=20, choices=FieldKind, default=FieldKind.TEXT)
    required = models.BooleanField(default=False)
    sensitive = models.BooleanField(default=False)
    position = models.PositiveIntegerField(default=0)
    machine_value = models.TextField(blank=True)
    value = models.TextField(blank=True)
    normalized = models.TextField(blank=True)
    page = models.ForeignKey(Page, on_delete=models.SET_NULL, null=True, blank=True)
    # [x0, y0, x1, y1] as fractions of the page, or empty when the value was not found.
    box = models.JSONField(default=list, blank=True)
    grounded = models.BooleanField(default=False)
    # Per row of a ``rows`` field: {"page": n, "box": [...], "grounded": bool}, in row order.
    row_evidence = models.JSONField(default=list, blank=True)
    # Whether a second, independent reading (EXTRACTION_SECOND_PROVIDER) found the same value.
    agreement = models.CharField(max_length=10, choices=Agreement, blank=True)
    second_value = models.TextField(blank=True)
    status = models.CharField(max_length=20, choices=Status, default=Status.PROPOSED)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["document", "position", "id"]
        constraints = [models.UniqueConstraint(fields=["document", "key"], name="unique_field_key")]
        permissions = [
            (
                "view_sensitive_values",
                "Can see sensitive values (SSNs, account numbers) unmasked in Django admin",
            )
        ]

    def __str__(self) -> str:
        # No value: the name of a field turns up in lists and logs, where an SSN must not.
        return f"{self.label} (document {self.document_id})"

    def move_to(self, target: str) -> None:
        move(self, target, self.TRANSITIONS)

    @property
    def changed_from_machine(self) -> bool:
        return self.value != self.machine_value

    @property
    def rows(self) -> list[dict]:
        """A ``rows`` field's current rows, each with its evidence (``page``, ``box``,
        ``grounded``) when the machine's reading is still the value; else an empty list."""
        from .schemas import rows_loads

        if self.kind != FieldKind.ROWS:
            return []
        rows = rows_loads(self.value)
        evidence = self.row_evidence if self.value == self.machine_value else []
        for index, row in enumerate(rows):
            row["evidence"] = evidence[index] if index < len(evidence) else None
        return rows


class FieldRevisionQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise ValidationError("Field revisions are append-only.")

    def delete(self):
        raise ValidationError("Field revisions are append-only.")


class FieldRevision(models.Model):
    """An append-only entry in a field's history. The machine's reading is number 1.

    Each revision stores the plain hash of the one before it, and its own hash is recorded by a
    keyed audit event (``audit_sequence``), so an edit or deletion shows in
    ``manage.py verify_history`` (``extraction.verification``). The database refuses UPDATE and
    DELETE on this table (``audit.triggers``).
    """

    field = models.ForeignKey(Field, on_delete=models.PROTECT, related_name="revisions")
    number = models.PositiveIntegerField()
    value = models.TextField(blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    role = models.CharField(max_length=20, choices=Role)
    action = models.CharField(max_length=20)
    reason = models.TextField(blank=True)
    created_at = models.DateTimeField()
    previous_hash = models.CharField(max_length=64, blank=True)
    hash = models.CharField(max_length=64)
    # The sequence of the audit event that records this revision under the keyed MAC chain
    # (``extraction.history.revision_append``); not part of ``hash``.
    audit_sequence = models.BigIntegerField(null=True, blank=True, unique=True)

    objects = FieldRevisionQuerySet.as_manager()

    class Meta:
        ordering = ["field", "number"]
        constraints = [
            models.UniqueConstraint(fields=["field", "number"], name="unique_revision_number")
        ]
        indexes = [models.Index(fields=["-created_at"])]

    def __str__(self) -> str:
        return f"{self.field.key} #{self.number} by {self.role}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise ValidationError("Field revisions are append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValidationError("Field revisions are append-only.")

    def compute_hash(self) -> str:
        return revision_hash(
            self.field_id,
            self.number,
            self.value,
            self.actor_id,
            self.role,
            self.action,
            self.reason,
            self.created_at,
            self.previous_hash,
        )


# The columns a revision's plain hash covers, in the order ``revision_hash`` takes them.
REVISION_HASH_COLUMNS = (
    "field_id",
    "number",
    "value",
    "actor_id",
    "role",
    "action",
    "reason",
    "created_at",
    "previous_hash",
)


def revision_hash(
    field_id, number, value, actor_id, role, action, reason, created_at, previous_hash
) -> str:
    """The plain SHA-256 of a revision's content (hex), from its ``REVISION_HASH_COLUMNS``:
    of exactly ``json.dumps({"field": ..., "number": ..., "value": ..., "actor": ..., "role":
    ..., "action": ..., "reason": ..., "created_at": <isoformat>, "previous": ...},
    sort_keys=True)``, assembled by hand because verification computes it for every revision.
    ``created_at`` is a datetime or the database's text for one."""
    payload = (
        '{"action": '
        + json_scalar(action)
        + ', "actor": '
        + json_scalar(actor_id)
        + ', "created_at": '
        + json_scalar(iso_utc(created_at))
        + ', "field": '
        + json_scalar(field_id)
        + ', "number": '
        + json_scalar(number)
        + ', "previous": '
        + json_scalar(previous_hash)
        + ', "reason": '
        + json_scalar(reason)
        + ', "role": '
        + json_scalar(role)
        + ', "value": '
        + json_scalar(value)
        + "}"
    )
    return hashlib.sha256(payload.encode()).hexdigest()
