"""`make run`: the whole app on one machine: queue, worker, web server and demo data.

Redis is used when reachable; otherwise a local redis-server is started when the binary is
installed; otherwise Celery runs on an embedded file-system broker, and we say so. Ctrl-C stops
every process this script started.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
VAR = ROOT / "var"


def say(message: str) -> None:
    print(f"[attest] {message}", flush=True)  # noqa: T201 - this script talks to a person


def reachable(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def choose_broker(env: dict[str, str], children: list[subprocess.Popen]) -> None:
    if env.get("CELERY_BROKER_URL", "").startswith("filesystem://"):
        return
    url = urlparse(env.get("REDIS_URL", "redis://127.0.0.1:6379/0"))
    host, port = url.hostname or "127.0.0.1", url.port or 6379
    if reachable(host, port):
        say(f"Queue: Redis at {host}:{port}")
        return
    redis_server = shutil.which("redis-server")
    if redis_server and host in ("127.0.0.1", "localhost"):
        say(f"Queue: starting redis-server on {host}:{port}")
        children.append(
            subprocess.Popen(  # noqa: S603 - fixed arguments, no shell
                [
                    redis_server,
                    "--port",
                    str(port),
                    "--bind",
                    "127.0.0.1",
                    "--save",
                    "",
                    "--appendonly",
                    "no",
                ],
                stdout=subprocess.DEVNULL,
                start_new_session=True,
            )
        )
        for _ in range(50):
            if reachable(host, port):
                return
            time.sleep(0.1)
    folder = VAR / "broker"
    folder.mkdir(parents=True, exist_ok=True)
    env["CELERY_BROKER_URL"] = "filesystem://"
    env["CELERY_FILESYSTEM_BROKER_FOLDER"] = str(folder)
    say(
        "Queue: no Redis server reachable and none could be started; using the embedded "
        f"file-system broker in {folder} (fine for one machine; install redis-server for more)."
    )


def manage(env: dict[str, str], *args: str) -> None:
    subprocess.run([PYTHON, "manage.py", *args], cwd=ROOT, env=env, check=True)  # noqa: S603


def _stop_on_sigterm(signum, frame) -> None:
    raise KeyboardInterrupt


def celery_worker(env: dict, *options: str) -> subprocess.Popen:
    """A Celery worker of this project in its own session (Ctrl-C reaches this script alone)."""
    return subprocess.Popen(  # noqa: S603
        [PYTHON, "-m", "celery", "-A", "config", "worker", "-l", "INFO", *options],
        cwd=ROOT,
        env=env,
        start_new_session=True,
    )


def main() -> int:
    signal.signal(signal.SIGTERM, _stop_on_sigterm)
    env = dict(os.environ)
    env.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
    port = env.get("PORT", "8000")
    # Links in e-mails point at the address this script serves, unless SITE_URL says otherwise.
    env.setdefault("SITE_URL", f"http://127.0.0.1:{port}")
    VAR.mkdir(exist_ok=True)
    children: list[subprocess.Popen] = []
    try:
        choose_broker(env, children)
        if not env.get("LLM_API_KEY") and env.get("EXTRACTION_PROVIDER", "local") != "local":
            say("No LLM_API_KEY set; a keyless server (Ollama, vLLM) is assumed.")
        say(f"Extraction provider: {env.get('EXTRACTION_PROVIDER', 'local')}")
        manage(env, "migrate", "--noinput", "-v0")
        demo = subprocess.run(  # noqa: S603
            [PYTHON, "manage.py", "setup_demo"],
            cwd=ROOT,
            env=env,
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        children.append(
            celery_worker(
                env,
                "--beat",
                "--concurrency",
                env.get("WORKER_CONCURRENCY", "2"),
                "--schedule",
                str(VAR / "celerybeat-schedule"),
            )
        )
        # Webhooks on a worker of their own (its queue, WEBHOOK_QUEUE): a receiver that is down
        # or slow holds up only this one, never a reading.
        children.append(
            celery_worker(
                env,
                "-Q",
                env.get("WEBHOOK_QUEUE", "webhooks"),
                "-n",
                "webhooks@%h",
                "--concurrency",
                "2",
            )
        )
        children.append(
            subprocess.Popen(  # noqa: S603
                [PYTHON, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"],
                cwd=ROOT,
                env=env,
                # Their own session: Ctrl-C reaches this script alone, which stops them in order
                # and exits 0, instead of racing them to exit (and make reporting "Error 1").
                start_new_session=True,
            )
        )
        time.sleep(3)
        print(f"\n{demo}", flush=True)  # noqa: T201
        say(f"Attest is running at http://127.0.0.1:{port}/  (Ctrl-C stops everything)")
        while all(child.poll() is None for child in children):
            time.sleep(0.5)
        say("A process stopped; shutting the rest down.")
        return 1
    except KeyboardInterrupt:
        say("Stopping.")
        return 0
    finally:
        for child in children:
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)
        for child in children:
            try:
                child.wait(timeout=10)
            except subprocess.TimeoutExpired:
                child.kill()


if __name__ == "__main__":
    sys.exit(main())
