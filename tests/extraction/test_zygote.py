"""Sandboxed children forked by a zygote: one clean child per file, the same answers as a cold
child, the same limits, and a worker that carries on whatever happens to the zygote."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import pytest

from extraction import ocr, sandbox, zygote
from extraction.ingest import render_pages
from extraction.uploads import UploadRejected, inspect_upload
from tests.extraction.hostile_corpus import pdf_bytes, plain_pdf
from tests.extraction.test_rendering_speed import _same_pages, _statement

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def zygotes(settings):
    settings.SANDBOX_ZYGOTES = True
    sandbox.zygotes_close()
    yield
    sandbox.zygotes_close()


def _pages(data: bytes, **options) -> list:
    return list(render_pages(data=data, media_type="application/pdf", max_pixels=1000, **options))


def _render_zygote(settings) -> zygote.Zygote:
    return sandbox._zygotes[("render", settings.RENDER_MEMORY_LIMIT_MB * 1024 * 1024)]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with contextlib.suppress(OSError):
        state = Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0]
        return state != "Z"
    return True


def test_a_forked_child_renders_exactly_what_a_cold_child_renders(settings, zygotes):
    data = _statement(3, stamp=True)
    forked = _pages(data, processes=2)
    settings.SANDBOX_ZYGOTES = False
    cold = _pages(data, processes=2)
    _same_pages(forked, cold)
    assert [p.image for p in forked] == [p.image for p in cold]
    assert [p.sent for p in forked] == [p.sent for p in cold]


def test_each_file_gets_a_child_of_its_own_and_the_zygote_stays(settings, zygotes, caplog):
    settings.EXTRACTION_RENDER_PROCESSES = 2
    forks = []
    real_fork = zygote.Zygote.fork

    def noted(self, stderr):
        child = real_fork(self, stderr)
        forks.append((self.process.pid, child.pid))
        return child

    zygote.Zygote.fork = noted
    try:
        for _ in range(3):
            _pages(_statement(2), processes=1)
    finally:
        zygote.Zygote.fork = real_fork
    cap = settings.RENDER_MEMORY_LIMIT_MB * 1024 * 1024
    waiting = {spare.child.pid for spare in sandbox._spares[("render", cap)]}
    children = [child for _zygote, child in forks]
    assert len({z for z, _child in forks}) == 1  # one zygote forked them all
    assert len(set(children)) == len(children) == 3 + 2  # a child per file, two forked ahead
    assert {child for child in children if _alive(child)} == waiting and len(waiting) == 2
    assert _render_zygote(settings).alive()
    assert "zygote failed" not in caplog.text  # the real zygote is single-threaded


def test_render_children_hold_no_ocr_model_the_worker_reads_the_digits(
    settings, zygotes, monkeypatch
):
    """A text page's digits are read in the worker, by one recognizer per process: neither the
    zygote nor a child forked ahead loads onnxruntime (a photo's child loads it as it reads)."""
    settings.EXTRACTION_RENDER_PROCESSES = 1
    monkeypatch.setattr(ocr, "_ENGINE", None)  # else the whole engine's recognizer serves
    monkeypatch.setattr(ocr, "_RECOGNIZER", None)
    cap = settings.RENDER_MEMORY_LIMIT_MB * 1024 * 1024
    sandbox.prestart("render", memory_bytes=cap)
    (spare,) = [s.child for s in sandbox._spares[("render", cap)]]
    time.sleep(0.5)  # time enough for a child to start loading a model, were it told to
    assert "onnxruntime" not in Path(f"/proc/{spare.pid}/maps").read_text()

    pages = _pages(_statement(1))

    assert pages[0].text_source == "text_layer" and not pages[0].digits
    assert ocr._RECOGNIZER is not None  # loaded here, for the page's digits
    zygote_maps = Path(f"/proc/{_render_zygote(settings).process.pid}/maps").read_text()
    assert "onnxruntime" not in zygote_maps


def test_a_child_out_of_time_is_ended_by_its_zygote_and_the_next_file_is_read(settings, zygotes):
    settings.PARSE_TIME_LIMIT_SECONDS = 0.001  # the child cannot answer in time
    with pytest.raises(UploadRejected) as refusal:
        inspect_upload(plain_pdf(), filename="slow.pdf")
    assert refusal.value.code == "timeout"
    settings.PARSE_TIME_LIMIT_SECONDS = 30
    assert inspect_upload(plain_pdf(), filename="fine.pdf").page_count == 1
    cap = settings.PARSE_MEMORY_LIMIT_MB * 1024 * 1024
    assert sandbox._zygotes[("inspect", cap)].alive()


def test_a_child_keeps_the_memory_cap_and_reports_its_peak(settings, zygotes):
    settings.RENDER_MEMORY_LIMIT_MB = 700
    report = sandbox.RunReport()
    limits = sandbox.limits_from_settings(seconds=60, memory_mb=700)
    options = {"media_type": "application/pdf", "max_pixels": 1000, "max_pages": 5}
    options["max_image_pixels"] = settings.PARSE_MAX_IMAGE_PIXELS
    items = list(
        sandbox.run("render", data=_statement(1), options=options, limits=limits, report=report)
    )
    assert len(items) == 1 and report.outcome == "done" and report.exit_code == 0
    assert 0 < report.peak_rss_bytes <= limits.memory_bytes


def test_a_zygote_that_dies_costs_no_file(settings, zygotes, caplog):
    _pages(_statement(1))
    first = _render_zygote(settings)
    os.kill(first.process.pid, signal.SIGKILL)
    first.process.wait()
    assert len(_pages(_statement(2))) == 2  # a new zygote (or a cold child) reads it
    assert len(_pages(_statement(2))) == 2
    assert _render_zygote(settings) is not first and _render_zygote(settings).alive()


def test_a_zygote_with_a_second_thread_refuses_to_fork_and_a_cold_child_reads_the_file(
    settings, zygotes, caplog
):
    with tempfile.TemporaryFile() as stderr:
        threaded = zygote.Zygote(
            [
                sys.executable,
                "-c",
                "import sys, threading, time; sys.path.insert(0, sys.argv[1]); "
                "threading.Thread(target=time.sleep, args=(60,), daemon=True).start(); "
                "from extraction.zygote import serve; serve(int(sys.argv[2]), lambda: None)",
                str(ROOT),
            ],
            env=dict(os.environ),
            stderr=stderr,
        )
        sandbox._zygotes[("render", settings.RENDER_MEMORY_LIMIT_MB * 1024 * 1024)] = threaded
        assert len(_pages(_statement(2))) == 2
    assert "2 threads" in caplog.text and "a cold child reads this file" in caplog.text
    assert not threaded.alive()


def test_many_threads_forking_at_once_each_get_their_own_answer(settings, zygotes):
    files = [pdf_bytes(pages=n) for n in range(1, 9)]
    answers: dict[int, int] = {}

    def check(n: int) -> None:
        answers[n] = inspect_upload(files[n - 1], filename=f"{n}.pdf").page_count

    threads = [threading.Thread(target=check, args=(n,)) for n in range(1, 9) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert answers == {n: n for n in range(1, 9)}


def test_a_process_forked_from_its_parent_starts_a_zygote_of_its_own(settings, zygotes):
    _pages(_statement(1))
    parents = _render_zygote(settings)
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child reports through the pipe
        try:
            pages = _pages(_statement(2))
            mine = _render_zygote(settings)
            os.write(write, json.dumps([len(pages), mine is not parents]).encode())
        finally:
            sandbox.zygotes_close()
            os._exit(0)
    os.close(write)
    _pid, status = os.waitpid(pid, 0)
    answer = json.loads(os.read(read, 100) or b"null")
    os.close(read)
    assert answer == [2, True]
    assert parents.alive()


def test_the_zygote_ends_with_the_process_that_started_it():
    script = (
        "import os, sys; sys.path.insert(0, sys.argv[1]); "
        "os.environ['DJANGO_SETTINGS_MODULE'] = 'config.settings.test'; "
        "import django; django.setup(); from extraction import sandbox; "
        "sandbox.prestart('inspect', memory_bytes=512 * 1024 * 1024); "
        "z = sandbox._zygotes[('inspect', 512 * 1024 * 1024)]; "
        "print(z.process.pid, flush=True); os._exit(0)"
    )
    env = {**os.environ, "SANDBOX_ZYGOTES": "true"}
    out = subprocess.run(  # noqa: S603
        [sys.executable, "-c", script, str(ROOT)], capture_output=True, env=env, timeout=60
    )
    zygote_pid = int(out.stdout.split()[-1])
    deadline = time.monotonic() + 20
    while _alive(zygote_pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _alive(zygote_pid)


def test_a_child_finds_no_secret_in_its_environment_or_settings(settings, zygotes, monkeypatch):
    """A child subverted through a parser bug finds no key, password or database address: its
    zygote (whose environment every child inherits) got an allow-list of variables, and the
    settings module it loads holds nothing secret."""
    secrets = {
        "SECRET_KEY": "s3cret-django-key",
        "DATABASE_URL": "postgres://attest:pw@db/attest",
        "LLM_API_KEY": "sk-live-123",
        "AWS_SECRET_ACCESS_KEY": "aws-secret",
        "AUDIT_HMAC_KEY": "audit-key",
    }
    for name, value in secrets.items():
        monkeypatch.setenv(name, value)
    assert len(_pages(_statement(1))) == 1
    pid = _render_zygote(settings).process.pid
    environ = dict(
        item.split("=", 1)
        for item in Path(f"/proc/{pid}/environ").read_text().split("\0")
        if "=" in item
    )
    assert not set(secrets) & set(environ)
    assert not any(value in "\0".join(environ.values()) for value in secrets.values())
    assert environ["DJANGO_SETTINGS_MODULE"] == "config.settings.sandbox"
    from config.settings import sandbox as child_settings

    assert not [name for name in vars(child_settings) if "KEY" in name and name != "SECRET_KEY"]


def test_a_childs_opencv_works_on_one_thread():
    """OpenCV's pool ignores OMP_*: without its own setting a child's first colour test
    started a thread per CPU, each reserving tens of MB of the child's capped memory."""
    code = (
        "import os, cv2, numpy; "
        "cv2.cvtColor(numpy.zeros((1600, 1237, 4), numpy.uint8), cv2.COLOR_RGBA2GRAY); "
        "print(cv2.getNumThreads(), len(os.listdir('/proc/self/task')))"
    )
    shown = subprocess.run(
        [sys.executable, "-c", code],
        env=sandbox._child_env(),
        capture_output=True,
        text=True,
        check=True,
    )
    assert shown.stdout.split() == ["1", "1"]
