"""Attacks on the sandbox's zygote (``extraction/zygote.py``) and its spares (``sandbox.py``).

A *hostile child* is what a parser bug turns a child into: code of the applicant's choosing,
running as the worker's user under the child's limits. Here it is played by ``evil``, which
a zygote started by ``_evil_zygote`` runs as its ``inspect`` job (other files still go to the
real ``inspect_in_child``).
"""

from __future__ import annotations

import contextlib
import json
import os
import resource
import signal
import struct
import sys
import tempfile
import threading
import time
from pathlib import Path

import pytest

from extraction import sandbox, zygote

ROOT = Path(__file__).resolve().parents[2]
CAP = 512 * 1024 * 1024
_FRAME = struct.Struct(">I")


# --- the hostile child (runs inside a forked child) ---------------------------------------------


def _children_of(ppid: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            with contextlib.suppress(OSError):
                stat = Path(f"/proc/{entry}/stat").read_text()
                if int(stat.rsplit(")", 1)[1].split()[1]) == ppid:
                    found.append(int(entry))
    return found


def _read_exactly(stream, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = stream.read(size - len(data))
        if not chunk:
            break
        data += chunk
    return data


def _hijack(victim: int, out: str) -> None:
    """Stop a sibling waiting for its file, read the file from its stdin, answer for it."""

    def link(fd: int) -> str:
        return os.readlink(f"/proc/{victim}/fd/{fd}")

    while not link(0).startswith("pipe:") or link(1).startswith("pipe:"):  # until it waits
        time.sleep(0.001)
    os.kill(victim, signal.SIGSTOP)
    with open(f"/proc/{victim}/fd/0", "rb", buffering=0) as stdin:
        (size,) = _FRAME.unpack(_read_exactly(stdin, 4))
        _read_exactly(stdin, size)  # the job
        (size,) = _FRAME.unpack(_read_exactly(stdin, 4))
        Path(out).write_bytes(_read_exactly(stdin, size))  # another applicant's file
    for fd in os.listdir(f"/proc/{victim}/fd"):
        flags = Path(f"/proc/{victim}/fdinfo/{fd}").read_text().split("flags:")[1].split()[0]
        link = os.readlink(f"/proc/{victim}/fd/{fd}")
        if link.startswith("pipe:") and int(flags, 8) & os.O_WRONLY:
            with open(f"/proc/{victim}/fd/{fd}", "wb", buffering=0) as protocol:
                for message in (
                    {"kind": "item", "blob": False, "media_type": "application/pdf", "pages": 999},
                    {"kind": "done"},
                ):
                    payload = json.dumps(message).encode()
                    protocol.write(_FRAME.pack(len(payload)) + payload)
            return


def evil(data: bytes, options: dict):
    attack = options.get("attack")
    if not attack:
        from extraction.uploads import inspect_in_child

        yield from inspect_in_child(data, options)
        return
    Path(options["pid_file"]).write_text(str(os.getpid()))
    if attack == "burn":
        started = time.process_time()
        while time.process_time() - started < 0.5:
            pass
        yield {"media_type": "application/pdf", "pages": 1}, None
    elif attack == "no_fields":
        yield {"pages": "many"}, None
    elif attack == "garbage":
        for fd in os.listdir("/proc/self/fd"):
            link = os.readlink(f"/proc/self/fd/{fd}")
            flags = Path(f"/proc/self/fdinfo/{fd}").read_text().split("flags:")[1].split()[0]
            if link.startswith("pipe:") and int(flags, 8) & os.O_WRONLY:
                os.write(int(fd), _FRAME.pack(9) + b"[1, 2, 3]")  # JSON, but not an object
        time.sleep(5)
    elif attack == "kill_zygote_and_linger":
        os.kill(os.getppid(), signal.SIGKILL)
        time.sleep(120)
    elif attack == "linger_and_hijack_the_next_child":
        zygote_pid, me = os.getppid(), os.getpid()
        if os.fork() == 0:
            os.setsid()
            if os.fork() == 0:  # outlives the child: nobody kills a grandchild
                Path(options["pid_file"]).write_text(str(os.getpid()))
                deadline = time.monotonic() + 30
                while time.monotonic() < deadline:
                    for pid in _children_of(zygote_pid):
                        if pid != me:
                            try:
                                _hijack(pid, options["out"])
                            except Exception:  # noqa: BLE001
                                import traceback

                                Path(options["out"] + ".err").write_text(traceback.format_exc())
                            os._exit(0)
                    time.sleep(0.002)
            os._exit(0)
        os.wait()
        time.sleep(0.2)  # the grandchild is on its way
        yield {"media_type": "application/pdf", "pages": 1}, None


def _evil_zygote() -> zygote.Zygote:
    code = (
        "import sys; sys.path.insert(0, sys.argv[1]); from extraction import sandbox; "
        "sandbox.JOBS['inspect'] = 'tests.extraction.test_zygote_attacks:evil'; "
        "sandbox.zygote_main('inspect', sys.argv[2], sys.argv[3])"
    )
    return zygote.Zygote(
        [sys.executable, "-c", code, str(ROOT), str(CAP)],
        env=dict(os.environ),
        stderr=tempfile.TemporaryFile(),
    )


# --- helpers ----------------------------------------------------------------------------------


@pytest.fixture
def zygotes(settings):
    settings.SANDBOX_ZYGOTES = True
    settings.PARSE_MEMORY_LIMIT_MB = CAP // (1024 * 1024)
    sandbox.zygotes_close()
    started: list[int] = []
    yield started
    sandbox.zygotes_close()
    for pid in started:  # what these tests started and the sandbox left running
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _pid_from(path: Path, seconds: float = 5) -> int:
    deadline = time.monotonic() + seconds
    while not path.exists() or not path.read_text():
        assert time.monotonic() < deadline, "the child never started"
        time.sleep(0.01)
    return int(path.read_text())


def _attack(tmp_path: Path, attack: str, seconds: float = 2.0) -> None:
    options = {"attack": attack, "pid_file": str(tmp_path / "pid"), "out": str(tmp_path / "out")}
    with contextlib.suppress(sandbox.SandboxFailed, sandbox.Refused):
        list(
            sandbox.run(
                "inspect",
                data=b"%PDF-1.4 hostile",
                options=options,
                limits=sandbox.Limits(memory_bytes=CAP, seconds=seconds, cpu_seconds=60),
            )
        )


def _inspect_options() -> dict:
    from django.conf import settings

    return {
        "name": "x.pdf",
        "max_pages": settings.UPLOAD_MAX_PAGES,
        "max_image_pixels": settings.PARSE_MAX_IMAGE_PIXELS,
        "max_stream_bytes": settings.PARSE_MAX_STREAM_BYTES,
    }


# --- findings ---------------------------------------------------------------------------------


def test_a_child_that_kills_its_zygote_is_still_ended_at_its_time_limit(zygotes, tmp_path):
    """The parent kills a forked child only through its zygote: with the zygote gone (killed
    by the child, or by the kernel's OOM killer), the child runs on with nobody to end it,
    and the run reports it as killed (exit -9) while it is alive."""
    sandbox._zygotes[("inspect", CAP)] = _evil_zygote()
    report = sandbox.RunReport()
    options = {"attack": "kill_zygote_and_linger", "pid_file": str(tmp_path / "pid")}
    with pytest.raises(sandbox.SandboxFailed):
        list(
            sandbox.run(
                "inspect",
                data=b"%PDF-1.4",
                options=options,
                limits=sandbox.Limits(memory_bytes=CAP, seconds=2, cpu_seconds=60),
                report=report,
            )
        )
    child = _pid_from(tmp_path / "pid")
    zygotes.append(child)
    time.sleep(0.5)
    assert report.exit_code == -signal.SIGKILL
    assert not _alive(child), "the run reported the child killed; it is still running"


def test_a_lingering_grandchild_cannot_read_or_answer_the_next_applicants_file(
    zygotes, tmp_path, settings
):
    """A child forked ahead waits, dumpable and same-uid, with its stdin and protocol pipes
    reachable through /proc/<pid>/fd: a grandchild left by an earlier hostile file (nobody
    kills it) reads the next applicant's file and writes the parent a forged answer."""
    from extraction.uploads import inspect_upload
    from tests.extraction.hostile_corpus import plain_pdf

    settings.PARSE_TIME_LIMIT_SECONDS = 5
    sandbox._zygotes[("inspect", CAP)] = _evil_zygote()
    _attack(tmp_path, "linger_and_hijack_the_next_child")  # applicant A's file
    zygotes.append(_pid_from(tmp_path / "pid"))
    time.sleep(0.5)
    secret = plain_pdf()
    stolen = tmp_path / "out"
    inspected = inspect_upload(secret, filename="applicant-b.pdf")  # applicant B's file
    time.sleep(0.2)
    read_by_a = stolen.exists() and stolen.read_bytes() == secret
    assert (read_by_a, inspected.page_count) == (False, 1), "A read B's file and answered for it"


def test_a_stopped_spare_cannot_hang_the_parent_for_ever(zygotes, settings):
    """The parent writes the file into the child's stdin with no time limit: a spare that
    does not read (stopped by a sibling with the same uid, or wedged while loading) blocks
    the worker's thread for good once the file is larger than a pipe's buffer (64 KiB)."""
    from extraction.uploads import UploadRejected, inspect_upload
    from tests.extraction.hostile_corpus import pdf_bytes

    settings.PARSE_TIME_LIMIT_SECONDS = 2
    sandbox.prestart("inspect", memory_bytes=CAP)
    (spare,) = [s.child for s in sandbox._spares[("inspect", CAP)]]
    zygotes.append(spare.pid)
    os.kill(spare.pid, signal.SIGSTOP)
    data = pdf_bytes(pages=1) + b"%" + b"x" * 300_000  # past the pipe's buffer
    outcome: list = []

    def upload() -> None:
        try:
            outcome.append(inspect_upload(data, filename="big.pdf"))
        except UploadRejected as rejected:
            outcome.append(rejected.code)

    thread = threading.Thread(target=upload, daemon=True)
    thread.start()
    thread.join(10)
    hung = thread.is_alive()
    with contextlib.suppress(ProcessLookupError):
        os.kill(spare.pid, signal.SIGKILL)  # lets the stuck write fail, so the thread ends
    thread.join(10)
    assert not hung, "the upload waited for ever on a child that does not read"


def test_a_fork_taken_while_a_thread_waits_on_the_zygote_can_still_use_the_sandbox(
    zygotes, monkeypatch
):
    """``_take_spare`` asks the zygote (up to REPLY_SECONDS) while it holds the module's
    ``_zygotes_lock``; a process forked meanwhile (a Celery pool process) inherits that lock
    held by a thread it does not have, and its every sandboxed run waits for ever."""
    monkeypatch.setattr(zygote, "REPLY_SECONDS", 2.0)
    sandbox.prestart("inspect", memory_bytes=CAP)
    slow = sandbox._zygotes[("inspect", CAP)]
    os.kill(slow.process.pid, signal.SIGSTOP)  # a zygote that is slow to answer
    try:
        asking = threading.Thread(target=sandbox._take_spare, args=("inspect", CAP))
        asking.start()
        time.sleep(0.3)
        read, write = os.pipe()
        pid = os.fork()
        if pid == 0:  # pragma: no cover - reports through the pipe
            try:
                done = threading.Event()

                def check() -> None:
                    from tests.extraction.hostile_corpus import plain_pdf

                    list(
                        sandbox.run(
                            "inspect",
                            data=plain_pdf(),
                            options=_inspect_options(),
                            limits=sandbox.Limits(memory_bytes=CAP, seconds=10),
                        )
                    )
                    done.set()

                threading.Thread(target=check, daemon=True).start()
                os.write(write, b"done" if done.wait(8) else b"stuck")
            finally:
                os._exit(0)
        os.close(write)
        answer = os.read(read, 10)
        os.close(read)
        os.waitpid(pid, 0)
    finally:
        os.kill(slow.process.pid, signal.SIGCONT)
        asking.join()
    assert answer == b"done", "the forked process waits for ever for _zygotes_lock"


def test_a_fork_does_not_keep_its_parents_zygote_and_spares_alive(zygotes):
    """A forked process (a Celery pool process) inherits the zygote's control socket and the
    spares' pipes; while it lives, the parent's zygote never sees its end close, so closing it
    takes 5 s and a SIGKILL, and the spares, whose stdin never reaches EOF, are orphaned."""
    sandbox.prestart("inspect", memory_bytes=CAP)
    (spare,) = [s.child for s in sandbox._spares[("inspect", CAP)]]
    zygotes.append(spare.pid)
    pid = os.fork()
    if pid == 0:  # pragma: no cover - a pool process busy with something else
        time.sleep(20)
        os._exit(0)
    zygotes.append(pid)
    started = time.monotonic()
    sandbox.zygotes_close()
    took = time.monotonic() - started
    time.sleep(0.5)
    spare_alive = _alive(spare.pid)
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
    assert took < 2, f"closing the zygote took {took:.1f} s"
    assert not spare_alive, "the spare outlived its zygote"


def test_closing_a_zygote_does_not_count_its_childrens_cpu_twice(zygotes, tmp_path):
    """``forked_cpu_seconds`` adds each forked child's CPU; the zygote also adds them to its
    own children's total, which lands in this process's RUSAGE_CHILDREN when the zygote is
    reaped: the benchmark's sum (bench/real_pipeline.py ``_cpu``) counts them twice."""

    def cpu() -> float:
        usage = resource.getrusage(resource.RUSAGE_CHILDREN)
        return usage.ru_utime + usage.ru_stime + zygote.forked_cpu_seconds()

    burner = sandbox._zygotes[("inspect", CAP)] = _evil_zygote()
    before, forked_before = cpu(), zygote.forked_cpu_seconds()
    for _ in range(3):
        _attack(tmp_path, "burn", seconds=10)  # 0.5 s of CPU each
    forked = zygote.forked_cpu_seconds() - forked_before
    stat = Path(f"/proc/{burner.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
    zygote_own = (int(stat[11]) + int(stat[12])) / os.sysconf("SC_CLK_TCK")
    sandbox.zygotes_close()
    counted = cpu() - before
    assert forked >= 1.4
    assert counted <= zygote_own + forked + 0.3, (
        f"counted {counted:.2f} s: the zygote {zygote_own:.2f} s, its children {forked:.2f} s"
    )


def test_two_hundred_runs_leave_no_descriptor_or_zombie_behind(zygotes):
    """Each run's ``_FrameReader`` opens an epoll selector it never closes; the selector is
    in a reference cycle (its mapping), so its descriptor waits for a cyclic collection: about
    200 descriptors at a time in a plain process. Zombies: none (held up)."""
    from extraction.uploads import inspect_upload
    from tests.extraction.hostile_corpus import plain_pdf

    data = plain_pdf()
    inspect_upload(data, filename="warm.pdf")
    before = len(os.listdir("/proc/self/fd"))
    for n in range(200):
        inspect_upload(data, filename=f"{n}.pdf")
    after = len(os.listdir("/proc/self/fd"))
    zygote_pid = sandbox._zygotes[("inspect", CAP)].process.pid
    kids = _children_of(zygote_pid)
    zombies = [pid for pid in kids if not _alive(pid)]
    assert after <= before + 1, (before, after)
    assert len(kids) <= 1 and not zombies, (kids, zombies)


def test_a_new_memory_cap_retires_the_old_caps_zygote_and_spares(settings, zygotes):
    """Zygotes and spares are kept per (job, cap) for the life of the process: a new cap (a
    changed RENDER_MEMORY_LIMIT_MB or PARSE_MEMORY_LIMIT_MB) starts another zygote and its
    spares, and the old ones stay, idle, until the process ends."""
    from extraction.uploads import inspect_upload
    from tests.extraction.hostile_corpus import plain_pdf

    inspect_upload(plain_pdf(), filename="a.pdf")
    old = sandbox._zygotes[("inspect", CAP)]
    settings.PARSE_MEMORY_LIMIT_MB = 600
    inspect_upload(plain_pdf(), filename="b.pdf")
    assert not old.alive(), "the old cap's zygote is still running"
    assert not sandbox._spares.get(("inspect", CAP)), "the old cap's spares still wait"


@pytest.mark.parametrize("attack", ["no_fields", "garbage"])
def test_an_answer_outside_the_protocol_is_a_plain_refusal_not_an_error(
    attack, zygotes, tmp_path, settings, monkeypatch
):
    """A child gone wrong may answer anything: a frame that is not a JSON object, or an item
    without the fields the upload check reads. The file is refused in plain words ("crashed")
    and nothing raises past the upload check."""
    from extraction import uploads

    settings.PARSE_TIME_LIMIT_SECONDS = 3
    sandbox._zygotes[("inspect", CAP)] = _evil_zygote()
    real_run = sandbox.run

    def with_attack(job, *, data, options, limits, report=None):
        options = {**options, "attack": attack, "pid_file": str(tmp_path / "pid")}
        return real_run(job, data=data, options=options, limits=limits, report=report)

    monkeypatch.setattr(uploads.sandbox, "run", with_attack)
    with pytest.raises(uploads.UploadRejected) as refusal:
        uploads.inspect_upload(b"%PDF-1.4 hostile", filename="hostile.pdf")
    zygotes.append(_pid_from(tmp_path / "pid"))
    assert refusal.value.code == "crashed"
    assert "hostile.pdf" in refusal.value.message
