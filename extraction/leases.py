"""Who is reading a document: a lease with an owner and an expiry, renewed while the reading works.

A reading claims a document by writing its owner and an expiry on the row; a heartbeat thread
pushes the expiry forward while the reading runs. Another delivery of the same document (a
redelivered or re-sent task) takes the document over only when the lease has run out or its
owner's process is provably gone. Every write a reading makes goes through ``holding``, which
locks the document row and checks the owner in the same transaction, so a reading that was taken
over can never store pages, runs, fields, revisions or a status: its writes raise ``LeaseLost``.

Owners look like ``host:pid:start:nonce``. ``start`` is the process's start time from /proc (or
0), so that a recycled pid is not mistaken for the reader that died.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from django.conf import settings
from django.db import DatabaseError, close_old_connections, connection, transaction
from django.utils import timezone

from .models import Document

logger = logging.getLogger(__name__)


class LeaseLost(Exception):
    """This reading no longer holds the document: another took it over, or it was handed back."""

    def __init__(self, document_id: int, owner: str):
        super().__init__(f"Document {document_id} is no longer held by {owner}.")
        self.document_id = document_id
        self.owner = owner


def _stat(pid: int) -> list[str]:
    """The fields of /proc/<pid>/stat after the command name (state first), or [] without it."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return []
    # The command name (field 2) may hold spaces; fields after its closing parenthesis are fixed.
    return stat.rsplit(")", 1)[1].split()


def _process_start(pid: int) -> str:
    """The process's start time in clock ticks since boot, or "0" where /proc is missing."""
    fields = _stat(pid)
    return fields[19] if len(fields) > 19 else "0"


def owner_new() -> str:
    """A fresh owner name for one reading in this process."""
    pid = os.getpid()
    return f"{socket.gethostname()}:{pid}:{_process_start(pid)}:{uuid.uuid4().hex[:12]}"


def owner_is_gone(owner: str) -> bool:
    """True when the owner ran on this host and its process is no longer there.

    An owner on another host, or one whose name does not parse, is never called gone: only
    its lease running out frees the document then.
    """
    try:
        host, pid_text, start, _ = owner.rsplit(":", 3)
        pid = int(pid_text)
    except ValueError:
        return False
    if host != socket.gethostname() or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # a process of another user holds the pid: not our reader
        return True
    fields = _stat(pid)
    if fields and fields[0] in ("Z", "X"):  # killed, not yet reaped by its parent
        return True
    return start != "0" and _process_start(pid) not in (start, "0")


def lease_seconds() -> float:
    return float(settings.EXTRACTION_LEASE_SECONDS)


def expiry() -> datetime:
    return timezone.now() + timedelta(seconds=lease_seconds())


def is_free(document: Document) -> bool:
    """Whether a delivery may take this processing document: nobody holds it, its lease ran
    out, or its owner's process is gone."""
    if not document.lease_owner:
        return True
    if document.lease_expires_at is None or document.lease_expires_at <= timezone.now():
        return True
    return owner_is_gone(document.lease_owner)


@dataclass
class Lease:
    """One reading's hold on one document. ``lost`` is set by the heartbeat when it finds the
    lease gone, so the reading can stop early; the writes are refused either way."""

    document_id: int
    owner: str
    lost: threading.Event = field(default_factory=threading.Event)

    @contextmanager
    def holding(self) -> Iterator[Document]:
        """A transaction in which the document row is locked and still held by this reading.

        Raises ``LeaseLost`` (and so rolls back) otherwise. Nested inside another transaction it
        becomes a savepoint of it and the lock lasts until the outer commit.
        """
        with transaction.atomic():
            document = (
                # Lock only the document row: PostgreSQL refuses to lock the nullable side of
                # a join.
                Document.objects.select_for_update(of=("self",))
                .select_related("document_type", "application")
                .filter(pk=self.document_id)
                .first()
            )
            if (
                document is None
                or document.status != Document.Status.PROCESSING
                or document.lease_owner != self.owner
            ):
                self.lost.set()
                raise LeaseLost(self.document_id, self.owner)
            yield document

    def check(self) -> None:
        """Raise ``LeaseLost`` when the heartbeat already found the lease gone."""
        if self.lost.is_set():
            raise LeaseLost(self.document_id, self.owner)

    def renew(self) -> bool:
        """Push the expiry forward; False when the lease is no longer this reading's.

        A reading that has held the document past EXTRACTION_STUCK_AFTER_SECONDS is not renewed
        any more, so a reading that hangs with a live heartbeat is still taken over in the end.
        """
        now = timezone.now()
        stuck_after = timedelta(seconds=settings.EXTRACTION_STUCK_AFTER_SECONDS)
        renewed = Document.objects.filter(
            pk=self.document_id,
            status=Document.Status.PROCESSING,
            lease_owner=self.owner,
            processing_started_at__gt=now - stuck_after,
        ).update(lease_expires_at=now + timedelta(seconds=lease_seconds()))
        if not renewed and Document.objects.filter(pk=self.document_id).exists():
            self.lost.set()
            return False
        # A row this connection cannot see (deleted, or not committed yet) is the writes' to
        # find out about.
        return True

    def progress(self, **values) -> bool:
        """A small write (say, ``pages_done``) made only while the lease holds; the UPDATE's
        own row lock and its WHERE clause are the check."""
        return bool(
            Document.objects.filter(
                pk=self.document_id, status=Document.Status.PROCESSING, lease_owner=self.owner
            ).update(**values)
        )

    @contextmanager
    def heartbeat(self) -> Iterator[None]:
        """Renew the lease every third of its length in a thread while the block runs.

        Inside a transaction (a test calling the pipeline in-process) nothing is committed that
        another connection could see or take over, so there is no heartbeat then.
        """
        if connection.in_atomic_block:
            yield
            return
        stop = threading.Event()
        interval = max(lease_seconds() / 3, 0.5)

        def beat() -> None:
            try:
                while not stop.wait(interval):
                    try:
                        if not self.renew():
                            logger.warning(
                                "Document %s: lease of %s lost; the reading stops",
                                self.document_id,
                                self.owner,
                            )
                            return
                    except DatabaseError:
                        # A busy database (SQLite's writer lock) misses one beat, not the lease.
                        logger.warning("Document %s: lease renewal failed", self.document_id)
                        close_old_connections()
            finally:
                connection.close()

        thread = threading.Thread(target=beat, name=f"lease-{self.document_id}", daemon=True)
        thread.start()
        try:
            yield
        finally:
            stop.set()
            thread.join(timeout=interval + 5)
