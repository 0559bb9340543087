"""`make load`: the web app under 50 concurrent users, then documents per minute per worker count.

1. Seeds PostgreSQL once (``bench.load.seed``: 100,000 submitted applications; a database that
   already holds them is reused).
2. Starts gunicorn on 127.0.0.1 with the production settings (HTTPS redirects and secure
   cookies off, since the test speaks plain HTTP on loopback) and a private redis-server, so
   that uploads queue their readings where no worker takes them (workers would compete with the
   web server for the same two cores; step 4 measures them alone).
3. Runs locust headless (``bench/load/locustfile.py``: applicants and reviewers) and prints,
   per endpoint, requests, median, p95, p99 and errors.
4. Runs ``bench.load.throughput``: documents per minute through the fake provider with 1, 2 and
   4 worker processes.

    .venv/bin/python -m bench.load.run [--users 50] [--duration 60s] [--skip-throughput]
    LOAD_DATABASE_URL=postgres://postgres@127.0.0.1:5432/attest_load make load
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import resource
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from bench.load.files import ensure
from bench.load.seed import APPLICANTS, DEFAULT_URL, PASSWORD, REVIEWER_EMAIL

ROOT = Path(__file__).resolve().parent.parent.parent
VAR = ROOT / "var" / "load"
BIN = Path(sys.executable).parent


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_http(url: str, timeout: float, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"the server exited (code {process.returncode}); see its log")
        try:
            with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 - loopback
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.5)
    raise SystemExit(f"{url} did not answer within {timeout:.0f} s")


def server_env(database_url: str, redis_url: str) -> dict[str, str]:
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "AUDIT_HMAC_KEY": secrets.token_urlsafe(32),
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        # Plain HTTP on loopback: no redirect to HTTPS, cookies that travel over HTTP.
        "SECURE_SSL_REDIRECT": "0",
        "SESSION_COOKIE_SECURE": "0",
        "CSRF_COOKIE_SECURE": "0",
        "SECURE_HSTS_SECONDS": "0",
        "STATIC_ROOT": str(VAR / "static"),
        "PRIVATE_STORAGE_ROOT": str(VAR / "files"),
        "AUDIT_SEAL_PATH": str(VAR / "seal.log"),
        "EMAIL_BACKEND": "django.core.mail.backends.dummy.EmailBackend",
        "LOG_LEVEL": "WARNING",
    }


def collectstatic(env: dict[str, str]) -> None:
    if (VAR / "static" / "staticfiles.json").exists():
        return
    subprocess.run(  # noqa: S603
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v", "0"],
        cwd=ROOT,
        env=env,
        check=True,
    )


def start_redis(folder: Path) -> tuple[subprocess.Popen, str]:
    port = _free_port()
    process = subprocess.Popen(  # noqa: S603
        [
            shutil.which("redis-server") or "redis-server",
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--dir",
            str(folder),
            "--save",
            "",
            "--appendonly",
            "no",
        ],
        stdout=subprocess.DEVNULL,
    )
    return process, f"redis://127.0.0.1:{port}/0"


def percentile(values: list[float], share: float) -> float:
    """Nearest-rank percentile of exact response times (locust's own rounds above 100 ms)."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)] if ordered else float("nan")


def figures(samples: list, settle: float) -> list[dict]:
    """Per endpoint (and all together): requests, median, p95, p99, errors over the whole run,
    and p95 over the requests that began after the first ``settle`` seconds."""
    names = sorted({s[1] for s in samples}) + ["all requests"]
    rows = []
    for name in names:
        mine = [s for s in samples if name in ("all requests", s[1])]
        times = [s[2] for s in mine]
        later = [s[2] for s in mine if s[0] - s[2] / 1000 >= settle]
        rows.append(
            {
                "name": name,
                "requests": len(mine),
                "median": percentile(times, 0.5),
                "p95": percentile(times, 0.95),
                "p99": percentile(times, 0.99),
                "errors": sum(1 for s in mine if s[3]),
                "p95_later": percentile(later, 0.95),
                "later": len(later),
            }
        )
    return rows


def stats_table(rows: list[dict], settle: float) -> str:
    lines = [
        "| endpoint | requests | median ms | p95 ms | p99 ms | errors "
        f"| p95 ms after {settle:g} s (requests) |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for row in rows:
        lines.append(
            f"| {row['name']} | {row['requests']} | {row['median']:.0f} | {row['p95']:.0f} | "
            f"{row['p99']:.0f} | {row['errors']} | {row['p95_later']:.0f} ({row['later']}) |"
        )
    return "\n".join(lines)


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def postgres_cpu(database: str) -> float:
    """CPU seconds of the PostgreSQL backends connected to ``database`` now."""
    total = 0
    for process in Path("/proc").glob("[0-9]*"):
        try:
            command = (process / "cmdline").read_bytes().decode(errors="replace")
            # "postgres: 15/main: postgres attest_load 127.0.0.1(5432) idle"
            if not command.startswith("postgres:") or f": postgres {database} " not in command:
                continue
            text = (process / "stat").read_text()
        except OSError:
            continue
        total += sum(int(v) for v in text.rsplit(")", 1)[1].split()[11:13])
    return total / os.sysconf("SC_CLK_TCK")


def run_http(args) -> int:
    VAR.mkdir(parents=True, exist_ok=True)
    subprocess.run(  # noqa: S603
        [
            sys.executable,
            "-m",
            "bench.load.seed",
            "--database-url",
            args.database_url,
            "--applications",
            str(args.applications),
        ],
        cwd=ROOT,
        check=True,
    )
    upload = ensure(VAR / "pay_stub_photo.jpg")
    # Uploads of earlier runs: the database rows stay, the 5 MB files need not.
    shutil.rmtree(VAR / "files", ignore_errors=True)
    folder = Path(tempfile.mkdtemp(prefix="attest-load-"))
    redis_process, redis_url = start_redis(folder)
    env = server_env(args.database_url, redis_url)
    database = args.database_url.rsplit("/", 1)[1]
    collectstatic(env)
    port = _free_port()
    host = f"http://127.0.0.1:{port}"
    log = (VAR / "gunicorn.log").open("w")
    server = subprocess.Popen(  # noqa: S603
        [
            str(BIN / "gunicorn"),
            "config.wsgi",
            "--workers",
            str(args.workers),
            "--worker-class",
            args.worker_class,
            "--threads",
            str(args.threads),
            "--bind",
            f"127.0.0.1:{port}",
            "--timeout",
            "120",
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        _wait_http(f"{host}/accounts/login/", 60, server)
        started = time.monotonic()
        load = os.getloadavg()
        cpu_before, pg_before = children_cpu(), postgres_cpu(database)
        subprocess.run(  # noqa: S603
            [
                str(BIN / "locust"),
                "-f",
                str(ROOT / "bench/load/locustfile.py"),
                "--headless",
                "-u",
                str(args.users),
                "-r",
                str(args.spawn_rate),
                "-t",
                args.duration,
                "--host",
                host,
                "--only-summary",
                "--loglevel",
                "WARNING",
                "--stop-timeout",
                "30",
            ],
            cwd=ROOT,
            env={
                **os.environ,
                "LOAD_PASSWORD": PASSWORD,
                "LOAD_APPLICANTS": str(APPLICANTS),
                "LOAD_REVIEWER": REVIEWER_EMAIL,
                "LOAD_UPLOAD_FILE": str(upload),
                "LOAD_WAIT": args.wait,
                "LOAD_SUMMARY": str(VAR / "summary.json"),
            },
            check=False,
        )
        elapsed = time.monotonic() - started
        locust_cpu = children_cpu() - cpu_before
        pg_cpu = postgres_cpu(database) - pg_before
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=60)
        redis_process.terminate()
        redis_process.wait(timeout=30)
        shutil.rmtree(folder, ignore_errors=True)
    # The server: gunicorn, its workers and the upload-inspecting children they waited for
    # (redis-server's few seconds count here too).
    server_cpu = children_cpu() - cpu_before - locust_cpu
    summary = json.loads((VAR / "summary.json").read_text())
    rows = figures(summary["samples"], args.settle)
    print(
        f"\n## Web: {args.users} users for {args.duration} (locust, think time {args.wait} s), "
        f"gunicorn {args.workers} x {args.worker_class}"
        f"{f' ({args.threads} threads)' if args.worker_class == 'gthread' else ''}, "
        f"PostgreSQL ({args.database_url.rsplit('/', 1)[1]}); {os.cpu_count()} cores, "
        f"Python {platform.python_version()}, load average before "
        f"{load[0]:.1f} / after {os.getloadavg()[0]:.1f}; {elapsed:.0f} s\n"
    )
    print(stats_table(rows, args.settle))
    for error in summary["errors"]:
        print(f"\nerror x{error['count']} on {error['name']}: {error['error']}")
    print(
        f"\nCPU seconds over the {elapsed:.0f} s: server {server_cpu:.1f}, PostgreSQL backends "
        f"{pg_cpu:.1f}, locust {locust_cpu:.1f}; of {elapsed * (os.cpu_count() or 1):.0f} "
        f"core-seconds, shared with whatever else ran"
    )
    pages = [r for r in rows if r["name"] != "all requests" and not r["name"].endswith(")")]
    errors = rows[-1]["errors"]
    slow = [r["name"] for r in pages if r["p95"] >= 200]
    print(
        f"\npages with p95 >= 200 ms: {', '.join(slow) or 'none'}; errors: {errors} "
        f"(goal: p95 under 200 ms for pages, 0 errors)"
    )
    return 0 if not slow and errors == 0 else 1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=os.environ.get("LOAD_DATABASE_URL", DEFAULT_URL))
    parser.add_argument("--applications", type=int, default=100_000)
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--spawn-rate", type=float, default=10)
    parser.add_argument("--duration", default="60s")
    parser.add_argument("--wait", default="1,5", help="think time between pages, min,max seconds")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn worker processes")
    parser.add_argument("--worker-class", default="sync")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument(
        "--settle", type=float, default=20, help="p95 also over requests after this many s"
    )
    parser.add_argument("--skip-http", action="store_true")
    parser.add_argument("--skip-throughput", action="store_true")
    parser.add_argument("--throughput-args", default="", help="passed to bench.load.throughput")
    args = parser.parse_args()
    code = 0
    if not args.skip_http:
        code |= run_http(args)
    if not args.skip_throughput:
        # A database of its own (test_<name>, dropped after), so the seeded one stays as it is.
        env = {**os.environ, "DATABASE_URL": args.database_url}
        code |= subprocess.run(  # noqa: S603
            [sys.executable, "-m", "bench.load.throughput", *args.throughput_args.split()],
            cwd=ROOT,
            env=env,
            check=False,
        ).returncode
    sys.exit(code)


if __name__ == "__main__":
    main()
