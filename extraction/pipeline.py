"""Reading one document: ingest pages, extract, ground, save, check rules.

Every step is idempotent: running the pipeline twice on the same document, or again after a
worker died half-way, leaves the same pages and fields and never duplicates history.

A reading holds the document under a lease (``leases``): it claims a queued document, or takes
over one whose lease ran out or whose worker is gone, renews the lease while it works, and makes
every write inside ``lease.holding()``, so a reading that was taken over stores nothing.
Rendering is cut into slices of about EXTRACTION_SLICE_SECONDS: a long file hands its worker back
after each slice and queues its next slice behind the documents that waited, so that one
applicant's heavy upload cannot hold every worker while others wait.
"""

from __future__ import annotations

import enum
import logging
import time
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from datetime import datetime

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from . import leases, ocr, renderers
from .cache import call_key, earlier_reading, schema_version
from .caps import Capped, cap_reason
from .classify import classification_catalog, classify
from .concurrency import ProviderSlots
from .grounding import PageWords
from .images import media_type_of, sized_for
from .ingest import RenderedPage, UnreadableDocument, render_pages
from .leases import Lease, LeaseLost
from .models import Document, DocumentType, ExtractionRun, Page
from .progress import application_documents_changed
from .prompts import PROMPT_VERSION
from .providers import get_provider
from .providers.base import (
    ExtractionResult,
    PageInput,
    Provider,
    ProviderError,
    ProviderTransientError,
)
from .reading import GroupOutcome, merge_values, page_groups, read_group, read_groups
from .saving import fields_save
from .schemas import DocumentTypeSpec
from .signals import document_finished, document_read
from .split import split_plan
from .uploads import EXTENSIONS, TEXT_LAYER_KEY

logger = logging.getLogger(__name__)


class Reason:
    """Failure and manual-entry reasons: a code for programs, a sentence for the applicant."""

    UNKNOWN_TYPE = (
        "unknown_type",
        "We could not tell what kind of document this is. Choose its type and we will read it "
        "again.",
    )
    UNREADABLE = (
        "unreadable",
        "We could not read the values on this document. Please type them in beside the page.",
    )
    PROVIDER_UNAVAILABLE = (
        "provider_unavailable",
        "The reading service did not answer after several tries. Press Retry in a few minutes.",
    )
    INTERNAL = (
        "internal_error",
        "Something went wrong on our side while reading this document. Press Retry; if it "
        "happens again, replace the file or contact support.",
    )
    RENDER_FAILED = (
        "render_failed",
        "We could not open the pages of this file. Replace it with a fresh scan or export.",
    )
    OCR_UNAVAILABLE = ("ocr_unavailable", ocr.UNAVAILABLE_MESSAGE)
    SPLIT = (
        "split",
        "This file holds {count} documents; each is listed and read on its own.",
    )
    INTERRUPTED = (
        "reading_interrupted",
        "Reading this document stopped several times on our side. Press Retry; if it happens "
        "again, replace the file with a fresh scan or export.",
    )


class Outcome(enum.StrEnum):
    """What one delivery of a document's task did."""

    DONE = "done"  # the document is finished (or was gone or finished already)
    BUSY = "busy"  # another live reading holds it
    MORE = "more"  # a slice is stored; the task must be sent again for the next one


def _claim(document_id: int, owner: str) -> tuple[Lease, Document] | None:
    """Hold a document for this reading; None when it is gone, finished, or held by a live one.

    A queued document is claimed; a processing one is taken over when nobody holds it (its
    last slice handed it back), its lease ran out, or its owner's process is gone.
    """
    with transaction.atomic():
        document = (
            # Lock only the document row: PostgreSQL refuses to lock the nullable side of a join.
            Document.objects.select_for_update(of=("self",))
            .select_related("document_type", "application")
            .filter(pk=document_id)
            .first()
        )
        if document is None:
            return None
        if document.status == Document.Status.QUEUED:
            document.move_to(Document.Status.PROCESSING)
            document.attempts += 1
            document.pages_done = 0
        elif document.status == Document.Status.PROCESSING and leases.is_free(document):
            if document.lease_owner:
                logger.warning(
                    "Document %s: taking over from %s (lease %s)",
                    document_id,
                    document.lease_owner,
                    "ended" if not leases.owner_is_gone(document.lease_owner) else "owner gone",
                )
                document.attempts += 1
        else:
            return None
        document.lease_owner = owner
        document.lease_expires_at = leases.expiry()
        document.processing_started_at = timezone.now()
        document.save()
    return Lease(document_id=document.pk, owner=owner), document


class _Stream:
    """Provider calls started while later pages are still rendered (``_ingest``).

    A group's call starts as soon as its pages are stored, in a thread (it only waits); the
    main thread goes on rendering and records each call as it finishes. At most ``max_pages``
    page images wait in memory for their call: when that many are held, rendering waits for a
    call to finish. Built only when the document's type, hence its provider, is known before
    its pages are (a type chosen at upload), and never for the free ``local`` reader.
    """

    def __init__(self, lease, document, spec, provider, groups, keys, max_pages: int):
        self.lease, self.document, self.spec, self.provider = lease, document, spec, provider
        self.keys = keys
        self.to_read = [group for group in groups if earlier_reading(key=keys[group]) is None]
        self.group_of = {number: group for group in self.to_read for number in group}
        self.max_pages = max(max_pages, max((len(g) for g in groups), default=1))
        self.max_pixels = settings.EXTRACTION_IMAGE_MAX_PIXELS.get(provider.name, 0)
        self.slots = _slots(provider)
        self.images: dict[int, bytes] = {}  # page number -> image to send, until its call ends
        self.futures: dict[Future, tuple[int, ...]] = {}
        self.outcomes: dict[tuple[int, ...], GroupOutcome] = {}
        self.stopped = False  # a call failed for a passing reason: start no more
        self.pool = ThreadPoolExecutor(
            max_workers=max(1, settings.EXTRACTION_PROVIDER_CONCURRENCY.get(provider.name, 4)),
            thread_name_prefix=f"read-{document.pk}",
        )

    def hold(self, page: RenderedPage) -> None:
        if page.number in self.group_of:
            self.images[page.number] = page.sent

    def stored(self, pages: list[Page]) -> None:
        """Start the call of every group whose last page is among ``pages`` (just stored)."""
        for page in pages:
            group = self.group_of.get(page.number)
            if group is None or page.number != group[-1] or self.stopped:
                continue
            inputs = tuple(self._input(number, pages) for number in group)
            self.lease.check()
            future = self.pool.submit(
                read_group,
                provider=self.provider,
                spec=self.spec,
                pages=inputs,
                total_pages=self.document.page_count,
                slots=self.slots,
                slot_wait_seconds=settings.EXTRACTION_SLOT_WAIT_SECONDS,
            )
            self.futures[future] = group

    def _input(self, number: int, pages: list[Page]) -> PageInput:
        page = next((p for p in pages if p.number == number), None)
        if page is None:  # stored by an earlier slice
            page = self.document.pages.get(number=number)
        image = self.images.get(number) or sized_for(
            _read(page), max_pixels=self.max_pixels, text_source=page.text_source
        )
        return PageInput(number=number, image_png=image, text=page.text)

    def wait_for_room(self) -> None:
        """Block while ``max_pages`` page images are held, recording the calls that end."""
        while len(self.images) >= self.max_pages and self.futures:
            self.collect(wait(self.futures, return_when=FIRST_COMPLETED).done)
        self.collect([future for future in self.futures if future.done()])

    def collect(self, done) -> None:
        """Record the finished calls (one ExtractionRun each) and free their pages' images."""
        finished = []
        for future in done:
            group = self.futures.pop(future)
            outcome = future.result()
            for number in group:
                self.images.pop(number, None)
            finished.append(outcome)
            if isinstance(outcome.error, ProviderTransientError):
                self.stopped = True
        if not finished:
            return
        with self.lease.holding() as locked:
            streamed = dict(locked.metadata.get(STREAMED_RUNS, {}))
            for outcome in finished:
                key = self.keys[outcome.pages]
                run = _record_run(
                    self.document,
                    self.provider,
                    self.spec,
                    outcome,
                    reading=ExtractionRun.Reading.PRIMARY,
                    key=key,
                )
                self.outcomes[outcome.pages] = outcome
                if run.outcome == ExtractionRun.Outcome.OK:
                    streamed[key] = run.pk
            locked.metadata = {**locked.metadata, STREAMED_RUNS: streamed}
            locked.save(update_fields=["metadata"])

    def finish(self) -> None:
        """Wait for every call started and record it."""
        try:
            while self.futures:
                self.collect(wait(self.futures, return_when=FIRST_COMPLETED).done)
        finally:
            self.pool.shutdown(wait=True)


# Document.metadata key: the calls a stream recorded, {cache key: ExtractionRun id}, taken as
# they are by the reading that follows (not recorded a second time as reused).
STREAMED_RUNS = "streamed_runs"


def _stream_for(lease: Lease, document: Document) -> _Stream | None:
    """A stream of calls for this document, or None when its calls must wait for every page:
    no type chosen yet (classification and splitting read every page first), the local
    reader, a provider that is not configured, or a spending cap in the way."""
    if document.document_type_id is None or not document.page_count:
        return None
    document_type = document.document_type
    try:
        provider = get_provider(document_type.provider or None)
    except ProviderError:
        return None  # the reading after the pages says why
    if provider.name == LOCAL or settings.EXTRACTION_STREAM_MAX_PAGES <= 0:
        return None
    spec = DocumentTypeSpec.from_model(document_type)
    groups = page_groups(
        list(range(1, document.page_count + 1)), size=settings.EXTRACTION_PAGES_PER_CALL
    )
    keys = _call_keys(document, spec, provider, groups)
    stream = _Stream(
        lease, document, spec, provider, groups, keys, settings.EXTRACTION_STREAM_MAX_PAGES
    )
    reason = cap_reason(
        document=document,
        provider=provider,
        planned_calls=len(stream.to_read),
        planned_pages=sum(len(group) for group in stream.to_read),
    )
    if reason is not None or not stream.to_read:
        stream.pool.shutdown()
        return None  # the reading after the pages records the cap
    return stream


def _call_keys(document: Document, spec, provider: Provider, groups) -> dict[tuple, str]:
    return {
        group: call_key(
            sha256=document.sha256,
            file_pages=_file_pages(document, group),
            spec=spec,
            provider=provider.name,
            model=provider.model,
        )
        for group in groups
    }


def _ingest(
    lease: Lease, document: Document
) -> tuple[list[Page] | None, dict[tuple[int, ...], GroupOutcome], PageWords | None]:
    """Render and store the pages, a slice at a time, starting each group's provider call as
    soon as its pages are stored (``_Stream``); a later slice or a retry reuses the pages
    stored before. Returns every page (None when the slice's time ran out with pages left:
    they are stored, and the lease is handed back so that the next slice can take it), the
    outcomes of the calls this slice made, already recorded, and the pages' words indexed for
    grounding (built while the last calls were in flight; None when no call was).

    Pages are stored a group at a time (EXTRACTION_PAGES_PER_CALL), each group with its
    reading notes in one transaction, so a worker that dies loses at most the group it was
    rendering.
    """
    existing = list(document.pages.all())
    if document.ingested_at is not None:
        lease.progress(pages_done=len(existing))
        return existing, {}, None
    stream = _stream_for(lease, document)
    if stream is not None and existing:
        stream.stored(existing)  # groups an earlier slice stored whole but did not send
    send_pixels = stream.max_pixels if stream else 0
    budget = settings.EXTRACTION_SLICE_SECONDS
    started = time.monotonic()
    first = len(existing) + 1
    key = (document.pk, document.sha256, send_pixels)
    pages_iter = renderers.take(key=key, first=first)
    if pages_iter is None:
        with document.original.open("rb") as handle:
            data = handle.read()
        pages_iter = render_pages(
            data=data,
            media_type=document.media_type,
            max_pixels=settings.PAGE_IMAGE_MAX_PIXELS,
            first=first,
            send_pixels=send_pixels,
            processes=_renderers(document, first),
        )
    per_store = max(1, settings.EXTRACTION_PAGES_PER_CALL)
    pages = list(existing)
    pending: list[RenderedPage] = []
    rendered = 0
    more = False
    index = None
    try:
        while True:
            out_of_time = budget and rendered and time.monotonic() - started >= budget
            if (
                out_of_time
                and len(pages) + len(pending) < document.page_count
                and _others_waiting(document)
            ):
                more = True
                break
            if stream is not None:
                stream.wait_for_room()
            page = next(pages_iter, None)
            if page is None:
                break
            rendered += 1
            pending.append(page)
            if stream is not None:
                stream.hold(page)
            lease.check()
            if len(pending) >= per_store or (stream and page.number in _group_ends(stream)):
                pages += _store(lease, document, pending, stream)  # records the progress too
                pending = []
            else:
                lease.progress(pages_done=page.number)
        if pending:
            pages += _store(lease, document, pending, stream)
        if stream is not None and stream.futures and not more:
            # The main thread would only wait for the last calls: index the words for
            # grounding meanwhile (about 80 ms for a 20-page statement's 620 rows).
            index = PageWords([(page.number, page.words) for page in pages]).indexed()
    finally:
        if more:
            renderers.park(
                key=key,
                next_page=len(pages) + 1,
                pages=pages_iter,
                seconds=settings.EXTRACTION_RENDERER_PARK_SECONDS,
            )
        else:
            pages_iter.close()  # ends the child now rather than when the generator is collected
        if stream is not None:
            stream.finish()
    with lease.holding() as locked:
        if more:
            # Handed back: the next slice goes behind the documents that waited meanwhile.
            locked.lease_owner, locked.lease_expires_at, locked.sent_at = "", None, None
        else:
            locked.page_count = len(pages)
            locked.ingested_at = timezone.now()
        locked.save()
    document.metadata = locked.metadata
    return (None if more else pages), (stream.outcomes if stream else {}), index


def _renderers(document: Document, first: int) -> int:
    """How many sandboxed children render ``document`` from page ``first`` (at most one a
    page): EXTRACTION_TEXT_RENDER_PROCESSES for a PDF whose first page has a text layer (the
    upload check's ``uploads.TEXT_LAYER_KEY``), else EXTRACTION_RENDER_PROCESSES: a scan, a
    photo, a split part, or a file uploaded before the check noted it."""
    remaining = max(1, document.page_count - first + 1)
    if (document.metadata or {}).get(TEXT_LAYER_KEY) is True:
        wanted = settings.EXTRACTION_TEXT_RENDER_PROCESSES
    else:
        wanted = settings.EXTRACTION_RENDER_PROCESSES
    return max(1, min(wanted, remaining))


def _others_waiting(document: Document) -> bool:
    """Whether another document waits for a worker: queued and due (not a retry scheduled for
    later), or handed back between two slices. A slice hands its worker back only then: a
    document alone in the queue reads on, with its renderer and its calls, to the end."""
    now = timezone.now()
    queued = Q(status=Document.Status.QUEUED) & (Q(sent_at__isnull=True) | Q(sent_at__lte=now))
    handed_back = Q(status=Document.Status.PROCESSING, lease_owner="")
    return Document.objects.filter(queued | handed_back).exclude(pk=document.pk).exists()


def _group_ends(stream: _Stream) -> set[int]:
    return {group[-1] for group in stream.to_read}


def _store(
    lease: Lease, document: Document, rendered: list[RenderedPage], stream: _Stream | None
) -> list[Page]:
    """Store rendered pages and their reading notes in one transaction; start the calls
    whose groups they complete. Returns the stored pages."""
    stored = []
    with lease.holding() as locked:
        for page in rendered:
            row = Page(
                document=document,
                number=page.number,
                width=page.width,
                height=page.height,
                text=page.text,
                words=page.words,
                text_source=page.text_source,
            )
            extension = EXTENSIONS[media_type_of(page.image)]
            row.image.save(
                f"page-{page.number:03d}.{extension}", ContentFile(page.image), save=False
            )
            row.save()
            stored.append(row)
        locked.pages_done = rendered[-1].number
        # Notes of these pages join those of the pages before them.
        notes = _merged_notes(locked.metadata.get("reading_notes", {}), _reading_notes(rendered))
        if notes:
            locked.metadata = {**locked.metadata, "reading_notes": notes}
        locked.save()
    document.metadata = locked.metadata
    if stream is not None:
        stream.stored(stored)
    return stored


def _merged_notes(before: dict, now: dict) -> dict:
    return {key: [*before.get(key, []), *now.get(key, [])] for key in {*before, *now}}


def _reading_notes(rendered: list[RenderedPage]) -> dict:
    """What the screens say about how the text was had: pages OCR could not read, numbers
    whose text layer disagreed with the page (``[{"page", "layer", "seen"}]``), and text in
    the file that its page does not show (``[{"page", "text"}]``, for the rules)."""
    notes: dict = {}
    unreadable = [page.number for page in rendered if page.notes.get("ocr_unavailable")]
    if unreadable:
        notes["ocr_unavailable"] = unreadable
    disagreements = [
        {"page": page.number, **item}
        for page in rendered
        for item in page.notes.get("text_layer_disagrees", [])
    ]
    if disagreements:
        notes["text_layer_disagrees"] = disagreements
    replaced = [page.number for page in rendered if page.notes.get("text_layer_replaced")]
    if replaced:
        notes["text_layer_replaced"] = replaced
    hidden = [
        {"page": page.number, "text": page.notes["hidden_text"]}
        for page in rendered
        if page.notes.get("hidden_text")
    ]
    if hidden:
        notes["hidden_text"] = hidden
    return notes


def _ocr_missing(document: Document, pages: list[Page]) -> bool:
    """No page has text and OCR could not run on some: typing in is the only way forward."""
    notes = document.metadata.get("reading_notes", {})
    return bool(notes.get("ocr_unavailable")) and not any(page.text for page in pages)


def _resolve_type(lease: Lease, document: Document, pages: list[Page]) -> DocumentType | None:
    if document.document_type_id:
        return document.document_type
    key = classify("\n".join(page.text for page in pages), classification_catalog())
    document_type = DocumentType.objects.filter(key=key, is_active=True).first() if key else None
    if document_type is not None:
        with lease.holding():
            Document.objects.filter(pk=document.pk).update(document_type=document_type)
        document.document_type = document_type
    return document_type


LOCAL = "local"


def _finish(
    lease: Lease, document: Document, status: str, reason: tuple[str, str] | None = None
) -> None:
    with lease.holding() as locked:
        locked.move_to(status)
        locked.reason_code, locked.reason = reason or ("", "")
        locked.lease_owner, locked.lease_expires_at = "", None
        locked.save()
        application_documents_changed(application=locked.application)
        document_finished.send(sender=Document, document=locked)


def _record_run(
    document: Document,
    provider: Provider,
    spec: DocumentTypeSpec,
    outcome: GroupOutcome,
    *,
    reading: str,
    key: str,
) -> ExtractionRun:
    """One ExtractionRun per provider call (or per reused call), with what it cost."""
    result, error = outcome.result, outcome.error
    if result is not None:
        status = ExtractionRun.Outcome.OK
    elif error is not None and error.code == "unreadable_answer":
        status = ExtractionRun.Outcome.INVALID_OUTPUT
    else:
        status = ExtractionRun.Outcome.ERROR
    return ExtractionRun.objects.create(
        document=document,
        provider=provider.name,
        model=(result.model if result else "") or provider.model,
        prompt_version=PROMPT_VERSION,
        schema_version=schema_version(spec),
        reading=reading,
        page_first=outcome.first_page,
        page_last=outcome.last_page,
        cache_key=key,
        cached_from_id=outcome.cached_from,
        tokens_in=result.tokens_in if result else 0,
        tokens_out=result.tokens_out if result else 0,
        cost=result.cost if result else 0,
        latency_ms=result.latency_ms if result else 0,
        raw_response=(result.raw_response if result else error.raw_response if error else ""),
        values=result.values if result else {},
        outcome=status,
        error=error.message if error else "",
    )


def _file_pages(document: Document, group: tuple[int, ...]) -> tuple[int, ...]:
    """A part's page numbers as pages of the uploaded file, so that parts share cache keys."""
    offset = (document.page_start or 1) - 1
    return tuple(n + offset for n in group)


def _page_inputs(provider: Provider, pages: list[Page]) -> list[PageInput]:
    # The local provider reads only text; an LLM gets each page sized for its token accounting.
    max_pixels = settings.EXTRACTION_IMAGE_MAX_PIXELS.get(provider.name, 0)
    return [
        PageInput(
            number=page.number,
            image_png=(
                b""
                if provider.name == LOCAL
                else sized_for(_read(page), max_pixels=max_pixels, text_source=page.text_source)
            ),
            text=page.text,
        )
        for page in pages
    ]


def _slots(provider: Provider) -> ProviderSlots | None:
    if provider.name == LOCAL:
        return None
    limit = settings.EXTRACTION_PROVIDER_CONCURRENCY.get(provider.name, 4)
    url = settings.EXTRACTION_LIMITS_REDIS_URL or settings.CELERY_BROKER_URL
    return ProviderSlots(
        name=provider.name,
        limit=limit,
        redis_url=url if url.startswith(("redis://", "rediss://")) else "",
        # Renewed while the call runs: a killed worker's slot comes free within this long.
        lease_seconds=30,
    )


def _read_document(
    lease: Lease,
    document: Document,
    spec: DocumentTypeSpec,
    provider: Provider,
    pages: list[Page],
    *,
    reading: str,
    streamed: dict[tuple[int, ...], GroupOutcome] | None = None,
) -> list[GroupOutcome]:
    """Read every page group, reusing identical earlier calls; record one run per group.

    ``streamed``: outcomes of calls made (and recorded) while the pages were rendered; those,
    and the successful calls earlier slices streamed (Document.metadata STREAMED_RUNS), are
    taken as they are, not recorded again.
    Raises ``Capped`` (after recording why) when the paid calls left would pass a cap.
    """
    size = 0 if provider.name == LOCAL else settings.EXTRACTION_PAGES_PER_CALL
    groups = page_groups([page.number for page in pages], size=size)
    keys = _call_keys(document, spec, provider, groups)
    outcomes: list[GroupOutcome] = []
    recorded: list[GroupOutcome] = []  # already recorded by the stream
    to_read = []
    streamed = dict(streamed or {})
    streamed_runs = {}
    if reading == ExtractionRun.Reading.PRIMARY:
        metadata = Document.objects.filter(pk=document.pk).values_list("metadata", flat=True)
        streamed_runs = (metadata.first() or {}).get(STREAMED_RUNS, {})
    for group in groups:
        if group in streamed:
            recorded.append(streamed[group])
            continue
        run_id = streamed_runs.get(keys[group])
        run = ExtractionRun.objects.filter(pk=run_id, document=document).first() if run_id else None
        if run is not None:
            result = ExtractionResult(values=dict(run.values), model=run.model)
            recorded.append(GroupOutcome(pages=group, result=result))
            continue
        earlier = earlier_reading(key=keys[group])
        if earlier is None:
            to_read.append(group)
            continue
        outcomes.append(
            GroupOutcome(
                pages=group,
                result=ExtractionResult(values=dict(earlier.values), model=earlier.model),
                cached_from=earlier.cached_from_id or earlier.pk,
            )
        )
    reason = cap_reason(
        document=document,
        provider=provider,
        planned_calls=len(to_read),
        planned_pages=sum(len(group) for group in to_read),
    )
    if reason is not None:
        with lease.holding():
            ExtractionRun.objects.create(
                document=document,
                provider=provider.name,
                model=provider.model,
                prompt_version=PROMPT_VERSION,
                schema_version=schema_version(spec),
                reading=reading,
                outcome=ExtractionRun.Outcome.CAPPED,
                error=reason[1],
            )
        raise Capped(reason)
    if to_read:
        lease.check()
        outcomes += read_groups(
            provider=provider,
            spec=spec,
            pages=_page_inputs(provider, [p for p in pages if any(p.number in g for g in to_read)]),
            groups=to_read,
            slots=_slots(provider),
            slot_wait_seconds=settings.EXTRACTION_SLOT_WAIT_SECONDS,
            # More threads than the provider's slots would only wait for them.
            max_threads=settings.EXTRACTION_PROVIDER_CONCURRENCY.get(provider.name, 4),
        )
    outcomes.sort(key=lambda outcome: outcome.first_page)
    with lease.holding() as locked:
        for outcome in outcomes:
            _record_run(document, provider, spec, outcome, reading=reading, key=keys[outcome.pages])
        if STREAMED_RUNS in locked.metadata and reading == ExtractionRun.Reading.PRIMARY:
            # Taken: a later reading of this document (a retry) reuses them as any cached call.
            locked.metadata = {k: v for k, v in locked.metadata.items() if k != STREAMED_RUNS}
            locked.save(update_fields=["metadata"])
            document.metadata = locked.metadata
    return sorted([*outcomes, *recorded], key=lambda outcome: outcome.first_page)


def _second_reading(
    lease: Lease, document: Document, spec: DocumentTypeSpec, first: Provider, pages: list[Page]
) -> dict[str, str | None] | None:
    """An independent reading by EXTRACTION_SECOND_PROVIDER, or None when there is none or it
    failed: a second opinion that could not be had never holds up the first."""
    name = settings.EXTRACTION_SECOND_PROVIDER
    if not name or name == first.name:
        return None
    try:
        provider = get_provider(name)
        outcomes = _read_document(
            lease, document, spec, provider, pages, reading=ExtractionRun.Reading.SECOND
        )
    except (ProviderError, Capped) as error:
        logger.warning("Second reading of document %s skipped: %s", document.pk, error)
        return None
    if any(outcome.error for outcome in outcomes):
        return None
    return merge_values(spec, outcomes)[0]


def _should_split(document: Document, pages: list[Page]) -> bool:
    # Only a file whose type nobody chose, and never a part again.
    return document.document_type_id is None and document.split_from_id is None and len(pages) > 1


def document_process(*, document_id: int, owner: str | None = None) -> Outcome:
    """Read a document end to end under a lease of ``owner`` (a fresh one by default).

    Transient provider errors propagate for a retry; ``LeaseLost`` propagates when another
    reading took the document over, and then nothing more was stored by this one.
    """
    claimed = _claim(document_id, owner or leases.owner_new())
    if claimed is None:
        return Outcome.BUSY
    lease, document = claimed
    with lease.heartbeat():
        return _process(lease, document)


def _process(lease: Lease, document: Document) -> Outcome:
    from .services import document_split

    document_id = document.pk
    if document.attempts > 2 * settings.EXTRACTION_MAX_ATTEMPTS:
        # Taken over again and again: the file itself most likely kills the worker.
        _finish(lease, document, Document.Status.FAILED, Reason.INTERRUPTED)
        return Outcome.DONE
    try:
        pages, streamed, page_words = _ingest(lease, document)
    except LeaseLost:
        raise
    except UnreadableDocument as error:
        _finish(lease, document, Document.Status.FAILED, ("unreadable_file", error.message))
        return Outcome.DONE
    except Exception:
        logger.exception("Rendering document %s failed", document_id)
        _finish(lease, document, Document.Status.FAILED, Reason.RENDER_FAILED)
        return Outcome.DONE
    if pages is None:
        return Outcome.MORE

    if _should_split(document, pages):
        parts = split_plan([page.text for page in pages], classification_catalog())
        if len(parts) > 1:
            with lease.holding():
                document_split(document=document, pages=pages, parts=parts)
            code, message = Reason.SPLIT
            _finish(
                lease, document, Document.Status.SPLIT, (code, message.format(count=len(parts)))
            )
            return Outcome.DONE

    document_type = _resolve_type(lease, document, pages)
    ocr_missing = _ocr_missing(document, pages)
    if document_type is None:
        reason = Reason.OCR_UNAVAILABLE if ocr_missing else Reason.UNKNOWN_TYPE
        _finish(lease, document, Document.Status.NEEDS_MANUAL_ENTRY, reason)
        return Outcome.DONE
    spec = DocumentTypeSpec.from_model(document_type)
    if ocr_missing:
        _save_and_finish(lease, document, spec, {}, pages, None, Reason.OCR_UNAVAILABLE)
        return Outcome.DONE
    try:
        provider = get_provider(document_type.provider or None)
        outcomes = _read_document(
            lease,
            document,
            spec,
            provider,
            pages,
            reading=ExtractionRun.Reading.PRIMARY,
            streamed=streamed,
        )
    except Capped as capped:
        _save_and_finish(lease, document, spec, {}, pages, None, capped.reason)
        return Outcome.DONE
    except ProviderError as error:  # a configuration error: nothing was sent
        logger.warning("Document %s not read: %s", document_id, error.message)
        _save_and_finish(lease, document, spec, {}, pages, None, Reason.UNREADABLE)
        return Outcome.DONE
    transient = next(
        (o.error for o in outcomes if isinstance(o.error, ProviderTransientError)), None
    )
    if transient is not None:
        # The groups that were read are recorded and reused by the retry at no cost.
        raise transient
    values, _ = merge_values(spec, outcomes)
    second_values = _second_reading(lease, document, spec, provider, pages)
    unread = any(o.error for o in outcomes) or not any(values.values())
    # Nothing at all was read, or part of it could not be: the applicant types the values in.
    _save_and_finish(
        lease,
        document,
        spec,
        values,
        pages,
        second_values,
        Reason.UNREADABLE if unread else None,
        page_words=page_words,
    )
    return Outcome.DONE


def _save_and_finish(
    lease: Lease,
    document: Document,
    spec: DocumentTypeSpec,
    values: dict[str, str | None],
    pages: list[Page],
    second_values: dict[str, str | None] | None,
    reason: tuple[str, str] | None,
    *,
    page_words: PageWords | None = None,
) -> None:
    with lease.holding():
        fields_save(
            document=document,
            spec=spec,
            values=values,
            pages=pages,
            second_values=second_values,
            page_words=page_words,
        )
    # The rules follow the new values (rules.receivers), still only while the lease is held.
    with lease.holding():
        document_read.send(sender=Document, document=document)
    if reason is None:
        _finish(lease, document, Document.Status.EXTRACTED)
    else:
        _finish(lease, document, Document.Status.NEEDS_MANUAL_ENTRY, reason)


def _read(page: Page) -> bytes:
    with page.image.open("rb") as handle:
        return handle.read()


def _held_by(document: Document | None, owner: str | None) -> bool:
    """Whether a processing document may be moved by a reading of ``owner`` (None: anyone)."""
    if document is None or document.status != Document.Status.PROCESSING:
        return False
    return owner is None or document.lease_owner == owner


def document_requeue(
    *, document_id: int, note: str = "", owner: str | None = None, due_at: datetime | None = None
) -> bool:
    """Hand a processing document back to the queue (a retry is scheduled or it was stuck).

    ``owner``: the reading handing it back; a reading that no longer holds the document changes
    nothing. ``due_at``: when the retry's message falls due. Returns whether it was handed back.
    """
    with transaction.atomic():
        document = Document.objects.select_for_update().filter(pk=document_id).first()
        if not _held_by(document, owner):
            return False
        document.move_to(Document.Status.QUEUED)
        document.reason_code = "waiting_to_retry" if note else ""
        document.reason = note
        document.lease_owner, document.lease_expires_at = "", None
        document.sent_at = due_at
        document.save()
    return True


def document_fail(*, document_id: int, reason: tuple[str, str], owner: str | None = None) -> None:
    """Record a final failure with a reason the applicant can read.

    ``owner``: the reading that failed; a reading that no longer holds the document changes
    nothing, so a superseded reading never fails a document another one is reading.
    """
    with transaction.atomic():
        document = Document.objects.select_for_update().filter(pk=document_id).first()
        if document is None or document.is_finished:
            return
        if owner is not None and not _held_by(document, owner):
            return
        document.move_to(Document.Status.FAILED)
        document.reason_code, document.reason = reason
        document.lease_owner, document.lease_expires_at = "", None
        document.save()
        application_documents_changed(application=document.application)
