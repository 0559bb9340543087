"""``make bench``: every benchmark in bench/, one after the other, into bench/results.md.

Quick by default (each benchmark in a few minutes on a 2-core machine); ``--full`` runs the
sizes the issues ask for. Each benchmark runs in its own process, so one failing or hanging
is reported in the table and the others still run.

    .venv/bin/python -m bench.run_all [--full] [--only evals rules ...] [--timeout 1800]
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results.md"

# name -> (what it measures, quick arguments, full arguments)
BENCHMARKS: dict[str, tuple[str, list[str], list[str]]] = {
    "pipeline": ("Reading work per page, without an LLM", ["--repeat", "1"], []),
    "extraction": ("Extraction engine overhead, parallel pages, image tokens", ["--quick"], []),
    "real_pipeline": (
        "Upload to extracted through the real pipeline, against the physical limit",
        ["--quick"],
        [],
    ),
    "grounding": ("Grounding a long statement", ["--pages", "1", "20", "--repeat", "1"], []),
    "image_formats": ("Bytes of a page image: PNG, JPEG, WebP", [], []),
    "rules": ("Rule engine", ["--applications", "1000", "--repeat", "5"], []),
    "review_screens": (
        "Review screens at scale",
        ["--applications", "5000", "--repeat", "5"],
        [],
    ),
    "injection": ("Prompt injection: detection and false alarms", [], []),
    "races": (
        "Races between people's writes (SQLite and PostgreSQL)",
        ["--iterations", "50"],
        ["--iterations", "200"],
    ),
    "audit_verify": (
        "Full verification of the history (manage.py verify_history)",
        ["--events", "20000"],
        ["--events", "1000000"],
    ),
    "evals": (
        "Evals on the generated corpus",
        ["--per-type", "2"],
        ["--per-type", "20", "--overhead-per-type", "10", "--latency", "2.0"],
    ),
    "hostile_files": ("Hostile files in the parsing sandbox, oversized uploads", [], []),
    "type_screens": (
        "Document type preview and accuracy check",
        ["--samples", "5"],
        ["--samples", "50"],
    ),
    "sign_in": (
        "Sign-in, sign-up and reset: timing by account existence, throttling",
        ["--repeat", "10"],
        ["--repeat", "40"],
    ),
    "multi_worker": (
        "Two workers with separate local folders on one bucket, against one",
        ["--documents", "6"],
        ["--documents", "100"],
    ),
}


def machine() -> list[str]:
    """The machine the figures come from: CPU, cores, memory, Python, database."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = "unknown"
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                memory = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
                break
    except OSError:
        pass
    database = os.environ.get("DATABASE_URL", "").split("://", 1)[0] or "sqlite"
    return [
        f"- CPU: {cpu}, {os.cpu_count()} cores",
        f"- Memory: {memory}",
        f"- Python {platform.python_version()} on {platform.system()} {platform.release()}",
        f"- Database: {database}",
    ]


def run_one(name: str, arguments: list[str], timeout: float) -> tuple[str, float, bool]:
    started = time.perf_counter()
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.test", "OMP_THREAD_LIMIT": "1"}
    try:
        completed = subprocess.run(  # noqa: S603 - our own interpreter and modules
            [sys.executable, "-m", f"bench.{name}", *arguments],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
    except subprocess.TimeoutExpired:
        return f"Stopped after {timeout:.0f} s.", time.perf_counter() - started, False
    seconds = time.perf_counter() - started
    if completed.returncode != 0:
        tail = "\n".join(completed.stderr.strip().splitlines()[-15:])
        return f"Failed (exit {completed.returncode}):\n\n```\n{tail}\n```", seconds, False
    return completed.stdout.strip(), seconds, True


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--full", action="store_true", help="the issues' sizes (slow)")
    parser.add_argument("--only", nargs="+", choices=sorted(BENCHMARKS), default=None)
    parser.add_argument("--timeout", type=float, default=3600, help="seconds per benchmark")
    parser.add_argument("--output", type=Path, default=RESULTS)
    args = parser.parse_args()
    names = [n for n in BENCHMARKS if n in (args.only or BENCHMARKS)]
    scale = "full" if args.full else "quick"
    sections, summary = [], []
    for name in names:
        title, quick, full = BENCHMARKS[name]
        arguments = full if args.full else quick
        print(f"== bench.{name} {' '.join(arguments)}", file=sys.stderr, flush=True)
        output, seconds, ok = run_one(name, arguments, args.timeout)
        command = " ".join(["python -m", f"bench.{name}", *arguments])
        summary.append(f"| {name} | {title} | `{command}` | {seconds:.0f} s | "
                       f"{'ok' if ok else 'FAILED'} |")  # fmt: skip
        sections.append(f"## {title} (`bench.{name}`)\n\n`{command}`, {seconds:.0f} s\n\n{output}")
    stamp = datetime.now(tz=UTC).strftime("%Y-%m-%d %H:%M UTC")
    document = "\n".join(
        [
            "# Benchmark results",
            "",
            f"Written by `make bench` ({scale} run, `python -m bench.run_all"
            f"{' --full' if args.full else ''}`) on {stamp}.",
            "",
            *machine(),
            "",
            "| benchmark | measures | command | took | |",
            "| --- | --- | --- | ---: | --- |",
            *summary,
            "",
            "\n\n".join(sections),
            "",
        ]
    )
    args.output.write_text(document)
    print(document)


if __name__ == "__main__":
    main()
