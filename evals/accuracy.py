"""Know a document type before relying on it: labelled samples and a per-field accuracy check.

An admin attaches a few samples to a type (a file and the values it shows) and runs the check
as a background job (``core.jobs``): each sample is rendered in the sandboxed child and read as
the pipeline would (``evals.runner.evaluate_document``), by the offline reader and by the
configured LLM provider when there is one, then scored field by field (``evals.scoring``). The
job's result holds, per reader, each field's share of samples read right. Nothing is written
but the job row: samples are not documents and no application sees them.
"""

from __future__ import annotations

import hashlib
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

from celery import current_app
from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone

from audit.models import Action
from audit.services import audit_record
from core.jobs import job_fail, job_progress, job_running, job_start, job_succeed
from core.models import Job
from extraction.ingest import UnreadableDocument, render_pages
from extraction.models import DocumentType
from extraction.normalize import mask
from extraction.providers import get_provider
from extraction.providers.base import ProviderError
from extraction.schemas import DocumentTypeSpec
from extraction.type_services import llm_provider_name
from extraction.uploads import UploadRejected, inspect_upload

from . import scoring
from .models import TypeSample
from .runner import CorpusDocument, evaluate_document

ACCURACY_JOB = "type_accuracy"
ACCURACY_TASK = "evals.type_accuracy"
# Enough to tell a working definition from a broken one; a corpus is for `manage.py evaluate`.
MAX_SAMPLES = 50
# A running check that reported no progress for this long is taken as dead.
STALE_AFTER_MINUTES = 10


class SampleRefused(Exception):
    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def scored_fields(document_type: DocumentType) -> list[dict]:
    """The fields a sample's answers are typed for: every field but lists of rows."""
    return [spec for spec in document_type.fields or [] if spec.get("kind") != "rows"]


@transaction.atomic
def type_sample_add(
    *, actor, document_type: DocumentType, data: bytes, filename: str, expected: dict[str, Any]
) -> TypeSample:
    """Store a labelled sample after the upload's own checks (a hostile file is refused with
    the upload's plain message). ``expected``: field key -> value shown, or None for none.
    Under the type's row lock, so that two samples added at once cannot pass the limit."""
    document_type = DocumentType.objects.select_for_update().get(pk=document_type.pk)
    if document_type.samples.count() >= MAX_SAMPLES:
        raise SampleRefused(f"A type keeps at most {MAX_SAMPLES} samples; remove one first.")
    try:
        inspected = inspect_upload(data, filename=filename)
    except UploadRejected as refusal:
        raise SampleRefused(refusal.message) from refusal
    keys = {spec["key"] for spec in scored_fields(document_type)}
    answers = {
        key: (str(value).strip() or None) if value is not None else None
        for key, value in expected.items()
        if key in keys
    }
    sample = TypeSample(
        document_type=document_type,
        original_name=Path(filename).name[:255] or "sample",
        media_type=inspected.media_type,
        sha256=hashlib.sha256(data).hexdigest(),
        expected=answers,
        added_by=actor,
    )
    sample.file.save(f"{sample.sha256[:16]}.{inspected.extension}", ContentFile(data), save=False)
    sample.save()
    _type_event(
        Action.DOCUMENT_TYPE_SAMPLE_ADDED,
        actor=actor,
        document_type=document_type,
        **_sample_data(sample),
        expected=shown_answers(document_type, answers),
    )
    return sample


def _sample_data(sample: TypeSample) -> dict[str, Any]:
    return {"sample": sample.pk, "file": sample.original_name, "sha256": sample.sha256}


def _type_event(action: str, *, actor, document_type: DocumentType, **data: Any) -> None:
    """One audit event about ``document_type``'s samples or checks, in ``actor``'s name."""
    audit_record(
        action=action,
        actor=actor,
        role=actor.role,
        subject=document_type,
        data={"key": document_type.key, **data},
    )


def shown_answers(document_type: DocumentType, answers: dict[str, Any]) -> dict[str, Any]:
    """Answers with each sensitive field's value masked, as the screens and the trail show
    them (the sample's file holds the value anyway)."""
    sensitive = {
        spec["key"]: spec.get("kind", "text")
        for spec in document_type.fields or []
        if spec.get("sensitive")
    }
    return {
        key: mask(sensitive[key], value) if key in sensitive and value else value
        for key, value in answers.items()
    }


@transaction.atomic
def type_sample_remove(*, actor, document_type: DocumentType, sample_id: int) -> bool:
    sample = document_type.samples.select_for_update().filter(pk=sample_id).first()
    if sample is None:  # removed already (a second click), or another type's
        return False
    _type_event(
        Action.DOCUMENT_TYPE_SAMPLE_REMOVED,
        actor=actor,
        document_type=document_type,
        **_sample_data(sample),
    )
    name = sample.file.name
    storage = sample.file.storage
    sample.delete()
    transaction.on_commit(lambda: storage.delete(name))
    return True


@transaction.atomic
def type_accuracy_start(*, actor, document_type: DocumentType) -> Job:
    """Start the check of ``document_type``'s current version on its samples. Under the type's
    row lock: two admins clicking at once start one check (the job is sent on commit)."""
    document_type = DocumentType.objects.select_for_update().get(pk=document_type.pk)
    if not document_type.samples.exists():
        raise SampleRefused("Add at least one labelled sample first.")
    # A check whose worker died stops blocking once it has been silent for a while.
    recent = timezone.now() - timedelta(minutes=STALE_AFTER_MINUTES)
    running = (
        type_accuracy_jobs(document_type)
        .exclude(status__in=Job.FINISHED)
        .filter(updated_at__gte=recent)
        .first()
    )
    if running is not None:  # a second click, or another admin's check: one at a time
        raise SampleRefused("A check of this type is already running; its progress shows below.")
    job = job_start(
        kind=ACCURACY_JOB,
        label=f"Accuracy of {document_type.label} v{document_type.version}",
        started_by=actor,
        arguments={"type_key": document_type.key, "version": document_type.version},
        # By name: the task module imports this one, and a service must not import its tasks.
        enqueue=lambda job_id: current_app.send_task(ACCURACY_TASK, args=[job_id]),
    )
    # A check may send every sample to a paid LLM: who started it is part of the record.
    _type_event(
        Action.DOCUMENT_TYPE_ACCURACY_STARTED,
        actor=actor,
        document_type=document_type,
        version=document_type.version,
        job=job.pk,
        samples=document_type.samples.count(),
        readers=readers(document_type),
    )
    return job


def type_accuracy_jobs(document_type: DocumentType):
    return Job.objects.filter(kind=ACCURACY_JOB, arguments__type_key=document_type.key).order_by(
        "-created_at", "-pk"
    )


def readers(document_type: DocumentType) -> list[str]:
    """The offline reader, and the LLM provider the type would use when one is configured."""
    llm = llm_provider_name(document_type.provider)
    return ["local", llm] if llm else ["local"]


def type_accuracy_run(*, job_id: int) -> None:
    """The job's work: read every sample with every reader, score, summarize per field."""
    job = Job.objects.filter(pk=job_id, kind=ACCURACY_JOB).first()
    if job is None:
        return
    document_type = DocumentType.objects.filter(key=job.arguments.get("type_key")).first()
    if document_type is None:
        job_fail(job_id=job_id, message="The document type no longer exists.")
        return
    spec = DocumentTypeSpec.from_model(document_type)
    samples = list(document_type.samples.all())
    names = readers(document_type)
    if job_running(job_id=job_id, total=len(samples) * len(names)) is None:
        return
    try:
        result = _measure(job_id, spec, samples, names)
    except Exception:  # noqa: BLE001 - the job must end, with a plain message
        job_fail(job_id=job_id, message="The check stopped on an unexpected error; try again.")
        raise
    job_succeed(
        job_id=job_id,
        result=result,
        message=f"{len(samples)} sample{'s' if len(samples) != 1 else ''} read by "
        + " and ".join(names)
        + ".",
    )


def _measure(job_id: int, spec: DocumentTypeSpec, samples: list, names: list[str]) -> dict:
    rendered: dict[int, tuple[list, float] | str] = {}
    done = 0
    result: dict[str, Any] = {"version": spec.version, "readers": {}}
    labels = {spec_field.key: spec_field.label for spec_field in spec.fields}
    sensitive = {f.key: f.kind for f in spec.fields if f.sensitive}
    for name in names:
        try:
            provider = get_provider(name)
        except ProviderError as error:
            result["readers"][name] = {"error": error.message, "fields": [], "samples": []}
            done += len(samples)
            job_progress(job_id=job_id, done=done)
            continue
        documents, per_sample = [], []
        for sample in samples:
            if sample.pk not in rendered:
                rendered[sample.pk] = _render(sample)
            pages = rendered[sample.pk]
            if isinstance(pages, str):
                per_sample.append({"name": sample.original_name, "error": pages})
            else:
                corpus_document = CorpusDocument(
                    Path(sample.original_name),
                    {"fields": sample.expected, "variant": "sample", "document_type": spec.key},
                )
                scored = evaluate_document(
                    corpus_document,
                    provider=provider,
                    spec=spec,
                    pages=pages[0],
                    render_seconds=pages[1],
                )
                documents.append(scored)
                per_sample.append(
                    {
                        "name": sample.original_name,
                        "errors": scored["errors"],
                        "fields": {
                            key: {
                                "outcome": item["outcome"],
                                "value": mask(sensitive[key], item["value"])
                                if key in sensitive and item["value"]
                                else item["value"],
                            }
                            for key, item in scored["fields"].items()
                        },
                    }
                )
            done += 1
            job_progress(job_id=job_id, done=done, message=f"{name}: {sample.original_name}")
        summary = scoring.summarize(documents) if documents else {"by_field": []}
        result["readers"][name] = {
            "fields": [
                {
                    "key": row["field"],
                    "label": labels.get(row["field"], row["field"]),
                    "right": sum(row["outcomes"][o] for o in scoring.CORRECT),
                    "of": row["documents"],
                    "accuracy": row["accuracy"],
                    "wrong": row["wrong"],
                    "invented": row["invented"],
                    "missing": row["outcomes"][scoring.MISSING],
                }
                for row in summary["by_field"]
            ],
            "samples": per_sample,
        }
    return result


def _render(sample: TypeSample) -> tuple[list, float] | str:
    started = time.perf_counter()
    try:
        with sample.file.open("rb") as handle:
            data = handle.read()
        pages = list(
            render_pages(
                data=data, media_type=sample.media_type, max_pixels=settings.PAGE_IMAGE_MAX_PIXELS
            )
        )
    except UnreadableDocument as unreadable:
        return unreadable.message
    except OSError:
        return "The sample's file is missing from storage; remove it and add it again."
    return pages, time.perf_counter() - started
