"""Parsing untrusted files in a child process with a memory cap and a time limit.

A hostile upload (a decompression bomb, a page tree that loops, an image header that claims a
billion pixels) can at worst exhaust the child: the web process or worker that asked receives a
``SandboxFailed`` with a plain code and carries on with the next file.

The child is a fresh interpreter, never a fork: a fork of a threaded web server or of a Celery
pool process can inherit locks held by other threads, and Celery's daemonic pool processes may
not start ``multiprocessing`` children. Its address space is capped with ``RLIMIT_AS`` (which
programs it starts, such as Tesseract, inherit), core dumps are off, and the parent kills it
when no answer arrives within the time limit.

A child costs 0.3-0.5 s of CPU to start from nothing (an interpreter, the settings, PDFium,
pypdf, numpy, OpenCV), so each process keeps one *zygote* per job and memory cap
(``zygote.py``, ``SANDBOX_ZYGOTES``): a fresh interpreter that has loaded the job's code and
forks a child per file in about 5 ms. The zygote is never a fork of the asking process, holds
no applicant's data and forks only while single-threaded; each child still takes one file,
applies the limits, and ends. What starts threads as it loads (RapidOCR's onnxruntime session)
is loaded by the child that needs it. A zygote inherited across a fork (a Celery pool
process) is not used by the fork, which starts its own.

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
import gc
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
from functools import partial
from pathlib import Path

from django.conf import settings

from .zygote import ForkedChild, Zygote, ZygoteGone, serve

logger = logging.getLogger(__name__)

_HEADER = struct.Struct(">I")
# The largest file a child may write: a page's pixels for Tesseract are 30 MB at most.
MAX_CHILD_FILE_BYTES = 256 * 1024 * 1024
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
# What a zygote loads before it forks, beyond the job's module: name -> "module:function". Only
# what leaves the process single-threaded (``zygote.serve`` refuses to fork otherwise).
WARM = {
    "render": "extraction.ingest:warm_child",
    "inspect": "extraction.uploads:warm_child",
}
# Children and zygotes use one thread for numeric work: each is one of several on the
# worker's cores, and a zygote must stay single-threaded to fork safely. OpenCV's pool (pthreads,
# blind to OMP_*) would otherwise start a thread per CPU at a child's first colour test, each
# reserving tens of MB of the child's capped address space (1.5 GB at 32 CPUs). Their settings hold
# nothing secret (config/settings/sandbox.py). glibc's malloc keeps what a page freed for the
# next one instead of handing each bitmap back to the kernel and faulting it in again (a text
# page draws and converts about 15 MB: 3,500 page faults, 7 ms of CPU a page); a child lives
# for one file, under its memory cap, so what it keeps is bounded.
_CHILD_ENV = {
    "OMP_THREAD_LIMIT": "1",
    "OMP_NUM_THREADS": "1",
    "OPENBLAS_NUM_THREADS": "1",
    "OPENCV_FOR_THREADS_NUM": "1",
    "DJANGO_SETTINGS_MODULE": "config.settings.sandbox",
    "MALLOC_MMAP_THRESHOLD_": "33554432",
    "MALLOC_TRIM_THRESHOLD_": "268435456",
}
# What a child keeps of the worker's environment: where programs, libraries and temporary
# files are, and the language. Never the keys, passwords and addresses the worker has.
_CHILD_ENV_KEPT = (
    "PATH",
    "HOME",
    "LANG",
    "LC_ALL",
    "LC_CTYPE",
    "TZ",
    "TMPDIR",
    "TESSDATA_PREFIX",
    "LD_LIBRARY_PATH",
    "PYTHONPATH",
    "PYTHONDONTWRITEBYTECODE",
    "VIRTUAL_ENV",
)


def _child_env() -> dict[str, str]:
    kept = {name: os.environ[name] for name in _CHILD_ENV_KEPT if name in os.environ}
    return {**kept, **_CHILD_ENV}


_ZYGOTE_CODE = (
    "import sys; sys.path.insert(0, sys.argv[1]); "
    "from extraction.sandbox import zygote_main; zygote_main(*sys.argv[2:])"
)


_zygotes: dict[tuple[str, int], Zygote] = {}
_zygotes_lock = threading.Lock()


@dataclass
class _Spare:
    """A child forked ahead of its file."""

    child: ForkedChild
    stderr: object  # the child's stderr file
    strays: int  # the strays its zygote had killed when it was forked

    def mine(self) -> bool:
        """Forked for this process, not for the one this process was forked from."""
        return self.child.zygote.owner_pid == os.getpid()

    def close(self) -> None:
        """Close this process's ends of its pipes: a child still waiting reads EOF and ends."""
        for stream in (self.child.stdin, self.child.stdout, self.stderr):
            with contextlib.suppress(OSError):
                stream.close()

    def discard(self) -> None:
        self.child.kill()
        self.close()


# Children forked ahead of their file, per (job, cap).
_spares: dict[tuple[str, int], list[_Spare]] = {}


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
    process, stderr = (
        _take_spare(job, limits.memory_bytes)
        or _forked(job, limits.memory_bytes)
        or _spawn(job, limits.memory_bytes)
    )
    header = json.dumps(
        {
            "job": job,
            "options": options,
            "memory_bytes": limits.memory_bytes,
            "cpu_seconds": limits.cpu_seconds,
        }
    ).encode()
    reaped = False
    reader = _FrameReader(process.stdout.fileno())
    unread = False  # the child took no file within the time limit (stopped, or wedged)
    try:
        try:
            parts = (_HEADER.pack(len(header)), header, _HEADER.pack(len(data)), data)
            _write_all(process.stdin.fileno(), parts, limits.seconds)
            process.stdin.close()
        except TimeoutError:  # an OSError too, so first
            unread = True
        except OSError:
            pass  # the child died at once; its exit status tells why below
        while True:
            frame = None if unread else reader.next(limits.seconds)
            if frame is None:
                failure = "timeout" if unread or reader.timed_out else "crashed"
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
            try:
                message = json.loads(frame)
            except ValueError:
                message = None
            if not isinstance(message, dict):  # not the protocol: a child gone wrong
                raise SandboxFailed("crashed", "a frame that is not a JSON object")
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
        reader.selector.close()  # an epoll descriptor, else kept until a full collection
        report.wall_seconds = time.monotonic() - started
        # After this child, not beside it: a spare renderer loads its models (0.2 s of CPU).
        _spares_fill(job, limits.memory_bytes)


def _spawn(job: str, memory_bytes: int):
    """A cold child: a fresh interpreter that loads what ``job`` needs after it is asked."""
    stderr = tempfile.TemporaryFile()  # noqa: SIM115 - closed by run()
    process = subprocess.Popen(  # noqa: S603 - fixed arguments, no shell
        [sys.executable, "-c", _CHILD_CODE, _PROJECT_ROOT],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=stderr,
        close_fds=True,
        env=_child_env(),
    )
    return process, stderr


def _forked(job: str, memory_bytes: int):
    """A child forked by this process's zygote for ``job`` under this cap, or None (zygotes
    are off, or the zygote failed: then it is closed and the next run starts another)."""
    if not getattr(settings, "SANDBOX_ZYGOTES", False):
        return None
    zygote = _zygote(job, memory_bytes)
    stderr = tempfile.TemporaryFile()  # noqa: SIM115 - closed by run()
    try:
        return zygote.fork(stderr), stderr
    except ZygoteGone as gone:
        stderr.close()
        logger.warning("The %s zygote failed (%s); a cold child reads this file.", job, gone)
        with _zygotes_lock:
            if _zygotes.get((job, memory_bytes)) is zygote:
                del _zygotes[(job, memory_bytes)]
        zygote.close()
        return None


def spares_wanted(job: str) -> int:
    """How many children a process keeps forked ahead for ``job``: one per renderer a
    document's pages are split across (EXTRACTION_RENDER_PROCESSES) for ``render``, else
    one."""
    if job == "render":
        return max(1, int(getattr(settings, "EXTRACTION_RENDER_PROCESSES", 1)))
    return 1


def _take_spare(job: str, memory_bytes: int):
    """A child forked ahead for ``job`` under this cap (``_spares_fill``), or None (none left,
    ended, or forked for the process this one was forked from: their pipes are its)."""
    with _zygotes_lock:
        spares = _spares.get((job, memory_bytes), [])
        while spares:
            spare = spares.pop(0)
            if not spare.mine():
                continue
            child = spare.child
            if (
                child.zygote.alive()
                and child.poll() is None
                and child.zygote.strays == spare.strays
            ):
                return child, spare.stderr
            # Ended or ending (its zygote gone, PR_SET_PDEATHSIG ends it), or a stray left by
            # another child may have stopped or read it since it was forked: no file for it.
            spare.discard()
    return None


def _spares_fill(job: str, memory_bytes: int) -> None:
    """Fork children ahead for ``job`` until ``spares_wanted`` wait (each blocks on its pipe
    until its one file arrives)."""
    if not getattr(settings, "SANDBOX_ZYGOTES", False):
        return
    key = (job, memory_bytes)
    with _zygotes_lock:
        waiting = [spare for spare in _spares.get(key, []) if spare.mine()]
        _spares[key] = waiting
        # Spares and zygotes of this job under another cap (the setting changed: only in tests
        # and at a restart) are let go.
        other_caps = [k for k in {*_spares, *_zygotes} if k[0] == job and k != key]
        retired = [spare for k in other_caps for spare in _spares.pop(k, []) if spare.mine()]
        old_zygotes = [_zygotes.pop(k) for k in other_caps if k in _zygotes]
        missing = spares_wanted(job) - len(waiting)
    for spare in retired:
        spare.discard()
    for old in old_zygotes:
        if old.owner_pid == os.getpid():
            old.close()
    for _ in range(missing):
        forked = _forked(job, memory_bytes)
        if forked is None:
            return
        child, stderr = forked
        with _zygotes_lock:
            _spares.setdefault(key, []).append(_Spare(child, stderr, child.zygote.strays))


def _zygote(job: str, memory_bytes: int) -> Zygote:
    """This process's zygote for ``job`` under this cap, started when there is none (or the
    one there belongs to the process this one was forked from, or has died)."""
    key = (job, memory_bytes)
    with _zygotes_lock:
        zygote = _zygotes.get(key)
        if zygote is not None and zygote.owner_pid == os.getpid() and zygote.alive():
            return zygote
        if zygote is not None and zygote.owner_pid == os.getpid():
            zygote.close()
        zygote = Zygote(
            [sys.executable, "-c", _ZYGOTE_CODE, _PROJECT_ROOT, job, str(memory_bytes)],
            env=_child_env(),
            stderr=tempfile.TemporaryFile(),  # noqa: SIM115 - closed by Zygote.close()
        )
        _zygotes[key] = zygote
        return zygote


def prestart(job: str, *, memory_bytes: int) -> None:
    """Start this process's zygote for ``job`` under ``memory_bytes`` and fork its spares now
    (a worker at start-up), so that the first file waits for neither."""
    if getattr(settings, "SANDBOX_ZYGOTES", False):
        _spares_fill(job, memory_bytes)


def zygotes_close() -> None:
    """End this process's zygotes and the children they forked ahead (at exit; in tests)."""
    with _zygotes_lock:
        mine = [z for z in _zygotes.values() if z.owner_pid == os.getpid()]
        spares = [spare for kept in _spares.values() for spare in kept if spare.mine()]
        _zygotes.clear()
        _spares.clear()
    for spare in spares:
        spare.close()
    for zygote in mine:
        zygote.close()  # and kills any child still running


atexit.register(zygotes_close)


def _write_all(fd: int, parts: tuple[bytes, ...], seconds: float) -> None:
    """Write ``parts`` in turn to the child's stdin, waiting at most ``seconds`` for it to read
    (``TimeoutError``); parts, not one joined payload, so that the file is never copied."""
    os.set_blocking(fd, False)
    deadline = time.monotonic() + seconds
    with selectors.DefaultSelector() as selector:
        selector.register(fd, selectors.EVENT_WRITE)
        for part in parts:
            view = memoryview(part)
            while view:
                remaining = deadline - time.monotonic()
                if remaining <= 0 or not selector.select(remaining):
                    raise TimeoutError
                with contextlib.suppress(BlockingIOError):
                    view = view[os.write(fd, view) :]


def _forget_inherited() -> None:
    """In a fork of this process (a Celery pool process): drop the parent's zygotes and
    spares without a word to them (closing our copies of their socket and pipes, so that
    they still see the parent's end close), and locks a thread of the parent may have held."""
    global _zygotes_lock
    _zygotes_lock = threading.Lock()
    for zygote in _zygotes.values():
        zygote.broken = True
        with contextlib.suppress(OSError):
            zygote.socket.close()
        with contextlib.suppress(OSError):
            zygote.stderr.close()
    for kept in _spares.values():
        for spare in kept:
            spare.close()
    _zygotes.clear()
    _spares.clear()


os.register_at_fork(after_in_child=_forget_inherited)


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


def _kill(process: subprocess.Popen | ForkedChild) -> None:
    if isinstance(process, ForkedChild):
        process.kill()  # by its zygote, which has not reaped it, so the pid is still its
        return
    # os.kill, not Popen.kill: Popen polls first, which would reap the child and lose the
    # rusage that wait4 reports. The pid cannot be reused before this process reaps it.
    if process.returncode is None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(process.pid, signal.SIGKILL)


def _reap(process: subprocess.Popen | ForkedChild, report: RunReport, *, grace: float = 0.0) -> int:
    """Wait for the child and record its exit and peak memory (``wait4`` gives its rusage).

    With ``grace``, a child that has answered is given that long to exit on its own first.
    """
    if process.returncode is not None:
        return process.returncode
    if isinstance(process, ForkedChild):
        try:
            process.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            _kill(process)
            process.wait()
        report.exit_code = process.returncode
        report.peak_rss_bytes = process.maxrss_bytes
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


def zygote_main(job: str, memory_bytes: str, control_fd: str) -> None:
    """Entry point of a zygote: load ``job``'s code and what ``WARM`` names, then fork a
    child per request (``zygote.serve``), each of which runs ``child_main`` for ``job``
    under ``memory_bytes``."""
    _load(JOBS[job])
    with contextlib.suppress(Exception):  # the settings module: a tenth of a second per child
        settings.PARSE_MAX_IMAGE_PIXELS  # noqa: B018 - configures the lazy settings
    if job in WARM:
        with contextlib.suppress(Exception):  # a library that cannot load: the job says so
            _load(WARM[job])()
    # Everything loaded so far lives as long as every child: out of the collector's sight, its
    # objects are neither scanned by each child's collections nor copied by them on write.
    gc.freeze()
    serve(int(control_fd), partial(child_main, job))


def child_main(expected_job: str = "") -> None:
    """Entry point of the child: apply the limits, read one job, answer in frames, exit.

    ``expected_job``: a child forked by that job's zygote; a job of another kind is refused
    as a crash.
    """
    protocol = os.fdopen(os.dup(1), "wb", buffering=0)
    os.dup2(2, 1)  # stray prints from libraries go to stderr, never into the protocol
    source = os.fdopen(0, "rb", buffering=0)
    try:
        job = json.loads(_read_frame(source))
    except EOFError:
        os._exit(0)  # a parent that ended without sending a job
    if expected_job and job["job"] != expected_job:
        os._exit(3)
    data = _read_frame(source)
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    # No file it writes (its stderr, the pixels it hands Tesseract) grows past this.
    resource.setrlimit(resource.RLIMIT_FSIZE, (MAX_CHILD_FILE_BYTES, MAX_CHILD_FILE_BYTES))
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
