"""Parsing untrusted files in a child process with a memory cap and a time limit.

A hostile upload (a decompression bomb, a page tree that loops, an image header that claims a
billion pixels) can at worst exhaust the child: the web process or worker that asked receives a
``SandboxFailed`` with a plain code and carries on with the next file.

The child is a fresh interpreter, never a fork: a fork of a threaded web server or of a Celery
pool process can inherit locks held by other threads, and Celery's daemonic pool processes may
not start ``multiprocessing`` children. Its address space is capped with ``RLIMIT_AS`` (which
programs it starts, such as Tesseract, inherit), core dumps are off, and the parent kills it
when no answer arrives within the time limit.

A child costs about a second to start (an interpreter, PDFium, Pillow, numpy and, for pages,
the OCR models, loaded before any untrusted byte arrives), so each process keeps a *spare*
per job and memory cap (two for rendering, whose pages are split across two children:
``spares_wanted``), started in the background after each run (``SANDBOX_WARM_SPARES``):
the next file goes to a child that is already warm. A spare is still one child per file: it
takes its first job, applies the limits, and is never given a second. A spare inherited
across a fork (a Celery pool process) is not used by the fork.

Wire format, both ways: frames of a 4-byte big-endian length and a payload. The parent sends a
JSON job (``{"job": name, "options": {...}}``) and the file's bytes. The child answers with
JSON headers, each ``{"kind": "item", "blob": bool, ...}`` followed by a binary frame when
``blob`` is true, then ``{"kind": "done"}`` or ``{"kind": "refused", "code", "message"}``.
JSON and raw bytes only, never pickle: a child subverted through a parser bug must not be able
to run code in the parent.
"""

from __future__ import annotations

import atexit
import contextlib
import importlib
import json
import logging
import os
import resource
import selectors
import signal
import struct
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings

logger = logging.getLogger(__name__)

_HEADER = struct.Struct(">I")
# A frame longer than this is a protocol error, not a page (a page PNG is a few MB at most).
MAX_FRAME_BYTES = 256 * 1024 * 1024
_PROJECT_ROOT = str(Path(__file__).resolve().parent.parent)
_CHILD_CODE = (
    "import sys; sys.path.insert(0, sys.argv[1]); "
    "from extraction.sandbox import child_main; child_main(*sys.argv[2:])"
)

# Jobs a child may run: name -> "module:function". The function takes (data, options) and
# returns an iterator of (header dict, blob bytes or None); it raises ``Refused`` for a file
# it will not take.
JOBS = {
    "inspect": "extraction.uploads:inspect_in_child",
    "render": "extraction.ingest:render_in_child",
}
# What a spare loads before its job arrives, beyond the job's module: name -> ("module:function",
# the smallest cap it is loaded under). The OCR models alone map about 800 MB of address space,
# which a smaller cap would leave no room beside; the upload check's PDF libraries (a quarter of
# a second to import, which every PDF upload waited for) need little.
WARM_MODELS_MIN_BYTES = 1536 * 1024 * 1024
WARM = {
    "render": ("extraction.ingest:warm_child", WARM_MODELS_MIN_BYTES),
    "inspect": ("extraction.uploads:warm_child", 0),
}


@dataclass
class _Spare:
    process: subprocess.Popen
    stderr: object  # the child's stderr file
    parent_pid: int


_spares: dict[tuple[str, int], list[_Spare]] = {}
_spares_lock = threading.Lock()


@dataclass(frozen=True)
class Limits:
    memory_bytes: int  # RLIMIT_AS of the child, in bytes
    seconds: float  # the longest wait for the child's next answer (each page renews it)
    cpu_seconds: int = 0  # RLIMIT_CPU of the child, 0: none


class Refused(Exception):
    """Raised inside the child: the file is understood and refused (``code`` + plain message)."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


class SandboxFailed(Exception):
    """The child could not finish: ``code`` is "memory", "timeout" or "crashed".

    Never carries a parser's own message: those are for logs, not for applicants.
    """

    def __init__(self, code: str, detail: str = ""):
        super().__init__(f"{code}: {detail}" if detail else code)
        self.code = code
        self.detail = detail


@dataclass
class RunReport:
    """What one child run cost; filled in as the run ends (for benchmarks and logs)."""

    peak_rss_bytes: int = 0
    wall_seconds: float = 0.0
    exit_code: int | None = None  # negative: killed by that signal
    outcome: str = ""  # "done" | "refused" | "memory" | "timeout" | "crashed"
    stderr_tail: str = field(default="", repr=False)


def run(
    job: str,
    *,
    data: bytes,
    options: dict,
    limits: Limits,
    report: RunReport | None = None,
) -> Iterator[tuple[dict, bytes | None]]:
    """Run ``job`` on ``data`` in a child and yield its items as they arrive.

    Raises ``Refused`` (the child's plain verdict on the file) or ``SandboxFailed`` (it ran out
    of memory or time, or died). Stopping the iteration early kills the child.
    """
    if job not in JOBS:
        raise ValueError(f"Unknown sandbox job {job!r}")
    report = report if report is not None else RunReport()
    started = time.monotonic()
    process, stderr = _take_spare(job, limits.memory_bytes) or _spawn(job, limits.memory_bytes)
    header = json.dumps(
        {
            "job": job,
            "options": options,
            "memory_bytes": limits.memory_bytes,
            "cpu_seconds": limits.cpu_seconds,
        }
    ).encode()
    reaped = False
    try:
        try:
            process.stdin.write(_HEADER.pack(len(header)) + header)
            process.stdin.write(_HEADER.pack(len(data)))
            process.stdin.write(data)
            process.stdin.close()
        except (BrokenPipeError, OSError):
            pass  # the child died at once; its exit status tells why below
        reader = _FrameReader(process.stdout.fileno())
        while True:
            frame = reader.next(limits.seconds)
            if frame is None:
                failure = "timeout" if reader.timed_out else "crashed"
                _kill(process)
                _reap(process, report)
                reaped = True
                if failure == "crashed" and _ran_out_of_memory(stderr):
                    failure = "memory"
                report.outcome = failure
                report.stderr_tail = _tail(stderr)
                logger.warning(
                    "Sandboxed %s ended: %s (exit %s) %s",
                    job,
                    failure,
                    report.exit_code,
                    report.stderr_tail[-300:],
                )
                raise SandboxFailed(failure, report.stderr_tail[-300:])
            message = json.loads(frame)
            kind = message.get("kind")
            if kind == "item":
                blob = reader.next(limits.seconds) if message.get("blob") else None
                if message.get("blob") and blob is None:
                    continue  # the loop above reports the failure on the next read
                yield message, blob
            elif kind == "done":
                report.outcome = "done"
                return
            elif kind == "refused":
                report.outcome = "refused"
                raise Refused(message["code"], message["message"])
            elif kind == "failed":
                report.outcome = message.get("code", "crashed")
                raise SandboxFailed(report.outcome, message.get("detail", ""))
            else:
                raise SandboxFailed("crashed", f"unexpected frame {kind!r}")
    finally:
        if not reaped:
            _reap(process, report, grace=2.0 if report.outcome else 0.0)
        for stream in (process.stdin, process.stdout):
            if stream and not stream.closed:
                stream.close()
        stderr.close()
        report.wall_seconds = time.monotonic() - started
        if getattr(settings, "SANDBOX_WARM_SPARES", False):
            # After this child, not beside it: warming takes a second of CPU of its own.
            _spare_start(job, limits.memory_bytes)


def _spawn(job: str, memory_bytes: int, *, warm: bool = False):
    """A fresh child for ``job``; ``warm``: it loads what the job needs before reading it."""
    stderr = tempfile.TemporaryFile()  # noqa: SIM115 - closed by run() or spares_close()
    arguments = [job, str(memory_bytes)] if warm else []
    process = subprocess.Popen(  # noqa: S603 - fixed arguments, no shell
        [sys.executable, "-c", _CHILD_CODE, _PROJECT_ROOT, *arguments],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=stderr,
        close_fds=True,
        env={**os.environ, "OMP_THREAD_LIMIT": "1"},
    )
    return process, stderr


def _take_spare(job: str, memory_bytes: int):
    """One of this process's warm spares for ``job`` under this cap, or None (none left, dead,
    or inherited through a fork: their pipes are the parent's)."""
    with _spares_lock:
        spares = _spares.get((job, memory_bytes), [])
        while spares:
            spare = spares.pop(0)
            if spare.parent_pid != os.getpid():
                continue
            if spare.process.poll() is not None:
                spare.stderr.close()
                continue
            return spare.process, spare.stderr
    return None


def spares_wanted(job: str) -> int:
    """How many warm spares a process keeps for ``job``: one per renderer a document's pages
    are split across (EXTRACTION_RENDER_PROCESSES) for ``render``, else one."""
    if job == "render":
        return max(1, int(getattr(settings, "EXTRACTION_RENDER_PROCESSES", 1)))
    return 1


def _spare_start(job: str, memory_bytes: int) -> None:
    """Start spares for ``job`` until ``spares_wanted`` are ready (no-op when they are)."""
    key = (job, memory_bytes)
    with _spares_lock:
        spares = []
        for spare in _spares.get(key, []):
            if spare.parent_pid == os.getpid() and spare.process.poll() is None:
                spares.append(spare)
        while len(spares) < spares_wanted(job):
            process, stderr = _spawn(job, memory_bytes, warm=True)
            spares.append(_Spare(process, stderr, os.getpid()))
        _spares[key] = spares


def prestart(job: str, *, memory_bytes: int) -> None:
    """Start the warm spares for ``job`` under ``memory_bytes`` now (a worker at start-up)."""
    _spare_start(job, memory_bytes)


def spares_close() -> None:
    """End this process's spares (at exit; in tests)."""
    with _spares_lock:
        spares = [s for kept in _spares.values() for s in kept if s.parent_pid == os.getpid()]
        _spares.clear()
    for spare in spares:
        _kill(spare.process)
        with contextlib.suppress(ChildProcessError, OSError):
            spare.process.wait(timeout=5)
        for stream in (spare.process.stdin, spare.process.stdout, spare.stderr):
            with contextlib.suppress(OSError):
                stream.close()


atexit.register(spares_close)


class _FrameReader:
    """Length-prefixed frames from a pipe, each awaited at most ``seconds``."""

    def __init__(self, fd: int):
        self.fd = fd
        self.buffer = bytearray()
        self.timed_out = False
        self.selector = selectors.DefaultSelector()
        self.selector.register(fd, selectors.EVENT_READ)

    def _fill(self, size: int, deadline: float) -> bool:
        while len(self.buffer) < size:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not self.selector.select(remaining):
                self.timed_out = True
                return False
            chunk = os.read(self.fd, max(65536, size - len(self.buffer)))
            if not chunk:
                return False
            self.buffer.extend(chunk)
        return True

    def next(self, seconds: float) -> bytes | None:
        deadline = time.monotonic() + seconds
        if not self._fill(_HEADER.size, deadline):
            return None
        (length,) = _HEADER.unpack(self.buffer[: _HEADER.size])
        if length > MAX_FRAME_BYTES:
            return None
        if not self._fill(_HEADER.size + length, deadline):
            return None
        frame = bytes(self.buffer[_HEADER.size : _HEADER.size + length])
        del self.buffer[: _HEADER.size + length]
        return frame


def _kill(process: subprocess.Popen) -> None:
    # os.kill, not Popen.kill: Popen polls first, which would reap the child and lose the
    # rusage that wait4 reports. The pid cannot be reused before this process reaps it.
    if process.returncode is None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(process.pid, signal.SIGKILL)


def _reap(process: subprocess.Popen, report: RunReport, *, grace: float = 0.0) -> int:
    """Wait for the child and record its exit and peak memory (``wait4`` gives its rusage).

    With ``grace``, a child that has answered is given that long to exit on its own first.
    """
    if process.returncode is not None:
        return process.returncode
    deadline = time.monotonic() + grace
    while True:
        try:
            pid, status, usage = os.wait4(process.pid, os.WNOHANG)
        except ChildProcessError:
            process.wait()
            report.exit_code = process.returncode
            return process.returncode
        if pid:
            break
        if time.monotonic() >= deadline:
            _kill(process)
            _pid, status, usage = os.wait4(process.pid, 0)
            break
        time.sleep(0.01)
    process.returncode = os.waitstatus_to_exitcode(status)
    report.exit_code = process.returncode
    report.peak_rss_bytes = usage.ru_maxrss * 1024  # Linux reports kilobytes
    return process.returncode


def _ran_out_of_memory(stderr) -> bool:
    # Python answers a MemoryError as a frame; native code that cannot allocate usually aborts
    # without a word (then the failure stays "crashed"), but some libraries say so first.
    tail = _tail(stderr)
    return "MemoryError" in tail or "out of memory" in tail.lower() or "bad_alloc" in tail


def _tail(stderr) -> str:
    try:
        stderr.seek(0, os.SEEK_END)
        size = stderr.tell()
        stderr.seek(max(0, size - 4000))
        return stderr.read().decode("utf-8", "replace")
    except (OSError, ValueError):
        return ""


# --- the child ---------------------------------------------------------------------------------


def child_main(warm_job: str = "", warm_memory: str = "0") -> None:
    """Entry point of the child: apply the limits, read one job, answer in frames, exit.

    ``warm_job``: a spare, which loads that job's code (and, under a cap large enough, its
    models) first, then waits for the job; a job of another kind is refused as a crash.
    """
    protocol = os.fdopen(os.dup(1), "wb", buffering=0)
    os.dup2(2, 1)  # stray prints from libraries go to stderr, never into the protocol
    if warm_job:
        _load(JOBS[warm_job])
        with contextlib.suppress(Exception):  # the settings module: a second in a cold child
            settings.PARSE_MAX_IMAGE_PIXELS  # noqa: B018 - configures the lazy settings
        warm, smallest_cap = WARM.get(warm_job, ("", 0))
        if warm and int(warm_memory) >= smallest_cap:
            with contextlib.suppress(Exception):  # an engine that cannot load: the job says so
                _load(warm)()
    source = os.fdopen(0, "rb", buffering=0)
    try:
        job = json.loads(_read_frame(source))
    except EOFError:
        os._exit(0)  # a spare whose parent ended without using it
    if warm_job and job["job"] != warm_job:
        os._exit(3)
    data = _read_frame(source)
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    memory = int(job["memory_bytes"])
    if memory:
        resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    if job.get("cpu_seconds"):
        cpu = int(job["cpu_seconds"])
        resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 5))

    def send(message: dict, blob: bytes | None = None) -> None:
        payload = json.dumps(message).encode()
        protocol.write(_HEADER.pack(len(payload)) + payload)
        if blob is not None:
            protocol.write(_HEADER.pack(len(blob)))
            protocol.write(blob)

    try:
        function = _load(JOBS[job["job"]])
        for header, blob in function(data, job["options"]):
            send({**header, "kind": "item", "blob": blob is not None}, blob)
    except Refused as refusal:
        send({"kind": "refused", "code": refusal.code, "message": refusal.message})
    except MemoryError:
        send({"kind": "failed", "code": "memory"})
    except RecursionError:
        send({"kind": "failed", "code": "crashed", "detail": "RecursionError"})
    except Exception as error:  # noqa: BLE001 - any parser failure is the file's, reported
        traceback.print_exc()
        send({"kind": "failed", "code": "crashed", "detail": type(error).__name__})
    else:
        send({"kind": "done"})
    protocol.close()
    os._exit(0)  # skip interpreter teardown: nothing to flush, and it can fault after a bomb


def _read_frame(source) -> bytes:
    (length,) = _HEADER.unpack(_read_exactly(source, _HEADER.size))
    return _read_exactly(source, length)


def _read_exactly(source, size: int) -> bytes:
    chunks, remaining = [], size
    while remaining:
        chunk = source.read(remaining)
        if not chunk:
            raise EOFError("the parent closed the pipe early")
        chunks.append(chunk)
        remaining -= len(chunk)
    return b"".join(chunks)


def _load(path: str) -> Callable:
    module_name, function_name = path.split(":")
    return getattr(importlib.import_module(module_name), function_name)


def limits_from_settings(*, seconds: float, memory_mb: int | None = None) -> Limits:
    """The configured memory cap (``PARSE_MEMORY_LIMIT_MB`` unless ``memory_mb`` is given)
    with the given time limit (settings read at call time)."""
    return Limits(
        memory_bytes=(memory_mb or settings.PARSE_MEMORY_LIMIT_MB) * 1024 * 1024,
        seconds=seconds,
        cpu_seconds=int(settings.PARSE_CPU_LIMIT_SECONDS),
    )
