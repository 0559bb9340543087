"""A warm template process that forks one sandboxed child per file (a *zygote*).

Starting a sandboxed child from nothing costs 0.3-0.5 s of CPU (an interpreter, the settings,
PDFium, pypdf, numpy, OpenCV), and a 20-page document needs three of them (its upload check and
two renderers): about 60 ms of CPU a page before any page is drawn. A zygote pays that once per
worker process: it is a fresh interpreter (never a fork of the threaded web server or Celery
pool process that asks), loads those modules, and then only forks. A fork costs about 5 ms, and
the child starts from the zygote's clean state, which has never held an applicant's byte.

The zygote forks only while it is single-threaded (``threads_now() == 1``, checked before every
fork): a fork copies one thread, and a lock another thread held at that moment would never be
released in the child. What starts threads at load time (onnxruntime's sessions, whose makers
say to create them after a fork) is therefore loaded by each child, not by the zygote.

Control channel: a ``SOCK_SEQPACKET`` socket pair, one JSON request and one JSON reply per
message, requests serialised by the asking process:

- ``{"op": "fork"}`` with three descriptors (the child's stdin, stdout and stderr):
  ``{"pid": n}`` with the child's pidfd, opened before the zygote could reap it, so the asking
  process kills exactly that child (``pidfd_send_signal``), even once the zygote is gone.
- ``{"op": "status", "pid": n}``: ``{"exit": None}`` while it runs, else ``{"exit": code,
  "maxrss_kb": k, "cpu_seconds": s}`` (negative code: killed by that signal), given once.
- ``{"op": "kill", "pid": n}``: where the kernel has no pidfd (before Linux 5.3), SIGKILL by
  pid, sent only to a child the zygote has not reaped, so never to a reused pid. ``{}``.

Every reply carries ``"strays"``: how many stray processes the zygote has killed so far.

Each child is forked with PR_SET_PDEATHSIG (it dies with its zygote) and PR_SET_DUMPABLE off
(another process of the same user cannot read its memory or descriptors through /proc or
ptrace it; root can). The zygote is a child subreaper: whatever a child leaves running (a
process it forked, however many times over, even in a session of its own) becomes the zygote's
when its parent ends, and the zygote kills every such stray whenever a process of its ends
and before each fork. A stray could have stopped or read a child waiting for its file, so
the asking process discards the children it forked ahead when the count grows. The zygote
reaps its children as they end (SIGCHLD), keeps each exit until it is asked for, and exits when
the asking process closes its end (it kills any child still running first).
"""

from __future__ import annotations

import contextlib
import json
import os
import selectors
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import IO

# A reply slower than this means the zygote is stuck or gone: the caller starts a cold child.
REPLY_SECONDS = 10.0
_MESSAGE_BYTES = 4096

_forked_cpu = 0.0
_forked_cpu_lock = threading.Lock()


def forked_cpu_seconds() -> float:
    """CPU seconds (user + system) of this process's forked children that have ended and been
    asked for: their zygote reaps them, so ``RUSAGE_CHILDREN`` here never counts them."""
    return _forked_cpu


def threads_now() -> int:
    """Threads of this process, native ones included (``threading`` sees only Python's)."""
    try:
        return len(os.listdir("/proc/self/task"))
    except OSError:  # no procfs: only Python's threads can be counted
        return threading.active_count()


class ZygoteGone(Exception):
    """The zygote did not answer: it died, hung or refused to fork."""


class ForkedChild:
    """A child forked by a zygote, with the part of ``subprocess.Popen`` the sandbox uses."""

    def __init__(self, zygote: Zygote, pid: int, pidfd: int, stdin: IO[bytes], stdout: IO[bytes]):
        self.zygote = zygote
        self.pid = pid
        self.pidfd = pidfd  # -1 where the kernel has none (Linux before 5.3)
        self.stdin = stdin
        self.stdout = stdout
        self.returncode: int | None = None
        self.maxrss_bytes = 0

    def poll(self) -> int | None:
        if self.returncode is None:
            try:
                reply = self.zygote.ask({"op": "status", "pid": self.pid})
            except ZygoteGone:
                # Its zygote is gone, and with it (PR_SET_PDEATHSIG) the child: once its pidfd
                # says so, report it as killed.
                if not self._ended():
                    return None
                reply = {"exit": -int(signal.SIGKILL), "maxrss_kb": 0, "cpu_seconds": 0.0}
            if reply.get("exit") is not None:
                self.returncode = int(reply["exit"])
                self.maxrss_bytes = int(reply.get("maxrss_kb") or 0) * 1024
                self.zygote.reported_cpu += float(reply.get("cpu_seconds") or 0.0)
                global _forked_cpu
                with _forked_cpu_lock:
                    _forked_cpu += float(reply.get("cpu_seconds") or 0.0)
                self._close_pidfd()
        return self.returncode

    def _ended(self) -> bool:
        if self.pidfd < 0:
            return True
        with selectors.DefaultSelector() as selector:
            selector.register(self.pidfd, selectors.EVENT_READ)
            return bool(selector.select(0))

    def wait(self, timeout: float | None = None) -> int:
        deadline = None if timeout is None else time.monotonic() + timeout
        while self.poll() is None:
            if deadline is not None and time.monotonic() >= deadline:
                raise subprocess.TimeoutExpired(f"forked child {self.pid}", timeout)
            time.sleep(0.005)
        return self.returncode

    def kill(self) -> None:
        """SIGKILL through the child's pidfd: never another process, zygote or not."""
        if self.returncode is not None:
            return
        if self.pidfd >= 0:
            with contextlib.suppress(ProcessLookupError, OSError):
                signal.pidfd_send_signal(self.pidfd, signal.SIGKILL)
        else:  # by its zygote, which has not reaped it, so the pid is still its
            with contextlib.suppress(ZygoteGone):
                self.zygote.ask({"op": "kill", "pid": self.pid})

    def _close_pidfd(self) -> None:
        if self.pidfd >= 0:
            with contextlib.suppress(OSError):
                os.close(self.pidfd)
            self.pidfd = -1

    def __del__(self) -> None:
        self._close_pidfd()


class Zygote:
    """The asking process's handle on one zygote (``command`` starts it; it must end in a
    call to ``serve`` with the descriptor number given as its last argument)."""

    def __init__(self, command: list[str], *, env: dict[str, str], stderr: IO[bytes]):
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        try:
            self.process = subprocess.Popen(  # noqa: S603 - fixed arguments, no shell
                [*command, str(theirs.fileno())],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=stderr,
                pass_fds=(theirs.fileno(),),
                close_fds=True,
                env=env,
            )
        finally:
            theirs.close()
        ours.settimeout(REPLY_SECONDS)
        self.socket = ours
        self.stderr = stderr
        self.owner_pid = os.getpid()
        self._lock = threading.Lock()
        self.broken = False
        self.strays = 0  # strays the zygote has killed, as of its last answer
        self.reported_cpu = 0.0  # CPU seconds of its children reported so far

    def ask(self, request: dict, fds: list[int] | None = None) -> dict:
        """Send one request and return its reply; ``ZygoteGone`` when none comes."""
        reply, _fds = self._ask(request, fds)
        for fd in _fds:
            os.close(fd)
        return reply

    def _ask(self, request: dict, fds: list[int] | None = None) -> tuple[dict, list[int]]:
        with self._lock:
            if self.broken:
                raise ZygoteGone("the zygote stopped answering earlier")
            try:
                socket.send_fds(self.socket, [json.dumps(request).encode()], fds or [])
                message, received, _flags, _address = socket.recv_fds(
                    self.socket, _MESSAGE_BYTES, 1
                )
            except OSError as error:  # socket.timeout is an OSError too
                self.broken = True
                raise ZygoteGone(str(error)) from error
            if not message:
                self.broken = True
                raise ZygoteGone("the zygote closed its end")
            reply = json.loads(message)
            self.strays = max(self.strays, int(reply.get("strays", 0)))
        return reply, list(received)

    def fork(self, stderr: IO[bytes]) -> ForkedChild:
        """A new child with fresh pipes for its stdin and stdout and ``stderr`` as its own."""
        child_in, parent_out = os.pipe()
        parent_in, child_out = os.pipe()
        try:
            reply, received = self._ask({"op": "fork"}, [child_in, child_out, stderr.fileno()])
        except ZygoteGone:
            for fd in (parent_out, parent_in):
                os.close(fd)
            raise
        finally:
            os.close(child_in)
            os.close(child_out)
        if "pid" not in reply:
            for fd in (parent_out, parent_in, *received):
                os.close(fd)
            self.broken = True
            raise ZygoteGone(reply.get("error", "the zygote refused to fork"))
        pidfd = received[0] if received else -1
        return ForkedChild(
            self,
            int(reply["pid"]),
            pidfd,
            os.fdopen(parent_out, "wb"),
            os.fdopen(parent_in, "rb"),
        )

    def alive(self) -> bool:
        return not self.broken and self.process.poll() is None

    def close(self) -> None:
        """End the zygote (it kills its running children first) and reap it."""
        self.broken = True
        with contextlib.suppress(OSError):
            self.socket.close()
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        with contextlib.suppress(OSError):
            self.stderr.close()
        # Its children's CPU now reaches this process's RUSAGE_CHILDREN with the zygote's own:
        # what ``forked_cpu_seconds`` counted of it already must not be counted twice.
        global _forked_cpu
        with _forked_cpu_lock:
            _forked_cpu -= self.reported_cpu
        self.reported_cpu = 0.0


# --- inside the zygote -------------------------------------------------------------------------

_PR_SET_PDEATHSIG = 1
_PR_SET_DUMPABLE = 4
_PR_SET_CHILD_SUBREAPER = 36


def _prctl(option: int, value: int) -> None:
    import ctypes

    if ctypes.CDLL(None, use_errno=True).prctl(option, value, 0, 0, 0) != 0:
        os._exit(70)  # a child without its protections must not take a file


def _children(pid: int) -> list[int]:
    """The processes whose parent is ``pid`` (the zygote's own, strays adopted included)."""
    try:
        return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:  # a kernel without CONFIG_PROC_CHILDREN: every process's parent is read
        found = []
        for entry in os.listdir("/proc"):
            if entry.isdigit():
                with contextlib.suppress(OSError, IndexError, ValueError):
                    stat = Path(f"/proc/{entry}/stat").read_text()
                    if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                        found.append(int(entry))
        return found


def serve(control_fd: int, child: Callable[[], None]) -> None:
    """The zygote's loop (never returns): fork on request; in each fork, put the three
    descriptors received on 0, 1 and 2 and call ``child`` (which must end the process)."""
    control = socket.socket(fileno=control_fd)
    _prctl(_PR_SET_CHILD_SUBREAPER, 1)
    zygote_pid = os.getpid()
    wake_read, wake_write = os.pipe()
    os.set_blocking(wake_read, False)
    os.set_blocking(wake_write, False)
    signal.set_wakeup_fd(wake_write)
    signal.signal(signal.SIGCHLD, lambda *_: None)  # only to wake the selector
    selector = selectors.DefaultSelector()
    selector.register(control, selectors.EVENT_READ)
    selector.register(wake_read, selectors.EVENT_READ)
    running: set[int] = set()
    ended: dict[int, dict] = {}
    strays = [0]

    def reap(*, look_for_strays: bool = False) -> None:
        while True:
            try:
                pid, status, usage = os.wait4(-1, os.WNOHANG)
            except ChildProcessError:
                break
            if not pid:
                break
            look_for_strays = True  # a process ended: its own children are ours now
            if pid in running:
                running.discard(pid)
                ended[pid] = {
                    "exit": os.waitstatus_to_exitcode(status),
                    "maxrss_kb": usage.ru_maxrss,
                    "cpu_seconds": usage.ru_utime + usage.ru_stime,
                }
        if not look_for_strays:
            return
        for pid in _children(zygote_pid):
            if pid not in running:  # left behind by a child, and now ours: never a worker
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
                strays[0] += 1

    def fork(fds: list[int]) -> dict:
        if len(fds) != 3:
            return {"error": "a fork needs stdin, stdout and stderr"}, []
        if threads_now() != 1:
            message = f"the zygote has {threads_now()} threads; it forks only with one"
            return {"error": message}, []
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:
            try:
                # Ends with its zygote; not readable through /proc nor traceable by another
                # process of its user (root excepted).
                _prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
                _prctl(_PR_SET_DUMPABLE, 0)
                if os.getppid() != zygote_pid:
                    os._exit(70)
                signal.set_wakeup_fd(-1)
                signal.signal(signal.SIGCHLD, signal.SIG_DFL)
                for target, fd in enumerate(fds):
                    os.dup2(fd, target)
                for fd in (*fds, wake_read, wake_write, control.fileno(), selector.fileno()):
                    with contextlib.suppress(OSError):
                        os.close(fd)
                child()
            finally:
                os._exit(70)  # the child must never return into this loop
        running.add(pid)
        try:
            pidfds = [os.pidfd_open(pid)]
        except (AttributeError, OSError):  # a kernel before 5.3: killed by pid, unreaped
            pidfds = []
        return {"pid": pid}, pidfds

    while True:
        for key, _events in selector.select():
            if key.fileobj is not control:
                with contextlib.suppress(BlockingIOError):
                    while os.read(wake_read, 512):
                        pass
                reap()
                continue
            try:
                message, fds, _flags, _address = socket.recv_fds(control, _MESSAGE_BYTES, 3)
            except OSError:
                message, fds = b"", []
            if not message:  # the asking process is gone: so are its children
                for pid in running:
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(pid, signal.SIGKILL)
                os._exit(0)
            request = json.loads(message)
            # Before a fork, always: a stray adopted while its parent, our child, still ran
            # must not meet the new child.
            reap(look_for_strays=request.get("op") == "fork")
            sent: list[int] = []
            if request.get("op") == "fork":
                reply, sent = fork(fds)
            elif request.get("op") == "status":
                pid = int(request["pid"])
                reply = ended.pop(pid, {"exit": None})
            elif request.get("op") == "kill":  # without a pidfd (a kernel before 5.3)
                pid = int(request["pid"])
                if pid in running:
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(pid, signal.SIGKILL)
                reply = {}
            else:
                reply = {"error": "unknown request"}
            for fd in fds:
                os.close(fd)
            reply = {**reply, "strays": strays[0]}
            socket.send_fds(control, [json.dumps(reply).encode()], sent)
            for fd in sent:
                os.close(fd)
