"""Hostile files against the sandboxed parser: verdict, message, peak memory, time, crashes.

Each file of the generated corpus (tests/extraction/hostile_corpus.py) is inspected as an
upload, then rendered as the worker would (refused files too, as if stored before the upload
check existed). Peak memory is the sandboxed child's (``wait4`` rusage), against the configured
cap; a "crash" is any error other than a plain refusal reaching this process. Then the request
body limit: bytes Django reads of a 300 MB upload. Prints Markdown tables.

    .venv/bin/python -m bench.hostile_files
"""

from __future__ import annotations

import io
import os
import platform

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
django.setup()

from django.conf import settings  # noqa: E402
from django.core.handlers.wsgi import WSGIRequest  # noqa: E402

from extraction import sandbox  # noqa: E402
from extraction.upload_limits import upload_refusals  # noqa: E402
from extraction.uploads import UploadRejected, inspect_upload  # noqa: E402
from tests.extraction.hostile_corpus import corpus  # noqa: E402

MB = 1024 * 1024
# The type an upload would have been stored as, had it passed the check.
MEDIA_TYPES = {"pdf": "application/pdf", "tiff": "image/tiff", "jpg": "image/jpeg"}


def _inspect(hostile) -> dict:
    report = sandbox.RunReport()
    original = sandbox.run

    def run_with_report(*args, **kwargs):
        kwargs["report"] = report
        return original(*args, **kwargs)

    sandbox.run = run_with_report
    try:
        inspected = inspect_upload(hostile.data, filename=hostile.name)
        verdict, message = f"stored ({inspected.page_count} p.)", ""
    except UploadRejected as refusal:
        verdict, message = f"refused: {refusal.code}", refusal.message
    except Exception as error:  # noqa: BLE001 - counted as a crash of this process's caller
        verdict, message = f"CRASH {type(error).__name__}", str(error)
    finally:
        sandbox.run = original
    return {
        "verdict": verdict,
        "message": message,
        "peak": report.peak_rss_bytes,
        "seconds": report.wall_seconds,
        "crash": verdict.startswith("CRASH"),
    }


def _render(hostile) -> dict:
    report = sandbox.RunReport()
    media_type = MEDIA_TYPES.get(hostile.name.rsplit(".", 1)[-1], "image/png")
    options = {
        "media_type": media_type,
        "max_pixels": settings.PAGE_IMAGE_MAX_PIXELS,
        "max_image_pixels": settings.PARSE_MAX_IMAGE_PIXELS,
        "max_pages": settings.UPLOAD_MAX_PAGES,
    }
    limits = sandbox.limits_from_settings(seconds=settings.RENDER_PAGE_TIME_LIMIT_SECONDS)
    crash = False
    try:
        pages = list(
            sandbox.run("render", data=hostile.data, options=options, limits=limits, report=report)
        )
        verdict = f"{len(pages)} page(s)"
    except sandbox.Refused as refusal:
        verdict = f"refused: {refusal.code}"
    except sandbox.SandboxFailed as failure:
        verdict = f"failed: {failure.code}"
    except Exception as error:  # noqa: BLE001
        verdict, crash = f"CRASH {type(error).__name__}", True
    return {
        "verdict": verdict,
        "peak": report.peak_rss_bytes,
        "seconds": report.wall_seconds,
        "crash": crash,
    }


class _CountingInput(io.RawIOBase):
    def __init__(self, size: int, head: bytes):
        self.size, self.head, self.read_bytes = size, head, 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        if self.read_bytes >= self.size:
            return 0
        count = min(len(buffer), self.size - self.read_bytes)
        start = self.read_bytes
        chunk = (self.head[start : start + count] if start < len(self.head) else b"").ljust(
            count, b"x"
        )
        buffer[:count] = chunk
        self.read_bytes += count
        return count


def _bytes_read_of(size: int) -> tuple[int, list[str]]:
    """Bytes Django's request parsing reads of a one-file multipart upload of ``size`` bytes."""
    boundary = "bench"
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="files"; filename="big.pdf"\r\n'
        "Content-Type: application/pdf\r\n\r\n"
    ).encode()
    body = _CountingInput(size + len(head), head)
    request = WSGIRequest(
        {
            "REQUEST_METHOD": "POST",
            "PATH_INFO": "/",
            "SERVER_NAME": "127.0.0.1",
            "SERVER_PORT": "8000",
            "wsgi.url_scheme": "http",
            "wsgi.input": io.BufferedReader(body, buffer_size=64 * 1024),
            "CONTENT_TYPE": f"multipart/form-data; boundary={boundary}",
            "CONTENT_LENGTH": str(body.size),
        }
    )
    refusals = upload_refusals(request)
    return body.read_bytes, refusals


def main() -> None:
    cap = settings.PARSE_MEMORY_LIMIT_MB
    print(f"# Hostile files ({platform.python_version()}, {os.cpu_count()} CPUs)\n")
    print(f"Memory cap of the parsing child: {cap} MB (RLIMIT_AS). Sizes in bytes of the file.\n")
    print(
        "| file | what | size | upload verdict | message | inspect peak MB | inspect s "
        "| render | render peak MB | render s |"
    )
    print("| --- | --- | ---: | --- | --- | ---: | ---: | --- | ---: | ---: |")
    crashes, over_cap = 0, 0
    for hostile in corpus():
        inspected = _inspect(hostile)
        rendered = (
            _render(hostile)
            if hostile.data
            else {"verdict": "-", "peak": 0, "seconds": 0, "crash": False}
        )
        crashes += inspected["crash"] + rendered["crash"]
        over_cap += max(inspected["peak"], rendered["peak"]) > cap * MB
        message = inspected["message"].replace("|", "/")
        message = message if len(message) <= 90 else message[:87] + "..."
        print(
            f"| {hostile.key} | {hostile.what} | {len(hostile.data):,} "
            f"| {inspected['verdict']} | {message} "
            f"| {inspected['peak'] / MB:.0f} | {inspected['seconds']:.2f} | {rendered['verdict']} "
            f"| {rendered['peak'] / MB:.0f} | {rendered['seconds']:.2f} |"
        )
    print(f"\nCrashes reaching the caller: {crashes}. Children above the memory cap: {over_cap}.\n")
    print("| upload | bytes declared | bytes read by Django | message |")
    print("| --- | ---: | ---: | --- |")
    for size in (300 * MB, 80 * MB):
        read, refusals = _bytes_read_of(size)
        print(f"| one file of {size // MB} MB | {size:,} | {read:,} | {' '.join(refusals)[:120]} |")


if __name__ == "__main__":
    main()
