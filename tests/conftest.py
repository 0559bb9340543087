"""Shared fixtures: real Redis, a real Celery worker process, and the fake LLM server."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connections
from django.test import TransactionTestCase
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings

from audit.seal import seal_path
from audit.triggers import append_only_drop, append_only_install, append_only_tables
from tests.fakes.fixtures import fake_llm, s3_bucket, s3_server  # noqa: F401 - fixtures, used by name

# Property tests judge the code, not the machine: on two shared cores, generation and examples
# can be slow, so Hypothesis's timing checks would fail runs for no fault of ours.
hypothesis_settings.register_profile(
    "attest", deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
hypothesis_settings.load_profile("attest")

ROOT = Path(__file__).resolve().parent.parent


def _flush_audit_rows_too(original):
    """Transactional tests empty the database after each test; the append-only triggers refuse
    that, as they should, so the flush lifts them for its own length and puts them back. The
    seal goes with the rows it sealed."""

    def _fixture_teardown(self):
        lifted = {}
        for alias in self._databases_names(include_mirrors=False):
            connection = connections[alias]
            lifted[alias] = append_only_tables(connection)
            for table in lifted[alias]:
                append_only_drop(connection, table)
        try:
            original(self)
        finally:
            for alias, tables in lifted.items():
                for table in tables:
                    append_only_install(connections[alias], table)
            seal_path().unlink(missing_ok=True)

    return _fixture_teardown


TransactionTestCase._fixture_teardown = _flush_audit_rows_too(TransactionTestCase._fixture_teardown)


@pytest.fixture(autouse=True)
def _seal_goes_with_the_rows():
    """A test's rows are rolled back (or flushed) when it ends, so its seal must go too: a seal
    left behind names events that the next test's history does not hold, and verifying that
    history would rightly report them deleted. It is cleared before too, since a worker or
    server thread of the test before may still have sealed after that test ended."""
    seal_path().unlink(missing_ok=True)
    yield
    seal_path().unlink(missing_ok=True)


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Sign-in throttling counts attempts in the cache (per IP, and every test client is
    127.0.0.1): each test starts with none counted."""
    from django.core.cache import cache

    cache.clear()
    yield


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _redis_ok(url: str) -> bool:
    import redis

    try:
        return bool(redis.Redis.from_url(url, socket_timeout=1).ping())
    except redis.RedisError:
        return False


@pytest.fixture(scope="session")
def redis_url():
    """The tests' Redis. A private redis-server is started when the usual one is not running."""
    url = settings.CELERY_BROKER_URL
    if _redis_ok(url):
        yield url
        return
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.fail("These tests need Redis: install redis-server or set TEST_REDIS_URL.")
    port = _free_port()
    process = subprocess.Popen(  # noqa: S603
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
    )
    url = f"redis://127.0.0.1:{port}/15"
    for _ in range(50):
        if _redis_ok(url):
            break
        time.sleep(0.1)
    from config.celery import app

    app.conf.broker_url = url
    try:
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)


def _database_url() -> str:
    """A URL that opens the test database the test process is using right now."""
    from django.db import connection

    db = connection.settings_dict
    if db["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{db['NAME']}"
    user = db.get("USER") or "postgres"
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    host = db.get("HOST") or "127.0.0.1"
    port = db.get("PORT") or 5432
    return f"postgres://{user}{password}@{host}:{port}/{db['NAME']}"


class WorkerProcess:
    def __init__(self, process: subprocess.Popen, log: Path):
        self.process = process
        self.log = log

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()


@pytest.fixture
def start_worker(redis_url, transactional_db, tmp_path):
    """Start a real `celery worker` process on the test database and the tests' Redis.

    Call it with environment overrides (say, EXTRACTION_PROVIDER) for the worker's settings.
    Function-scoped, because each transactional test empties the database the worker reads.
    """
    from config.celery import app

    workers: list[WorkerProcess] = []

    def start(**overrides: str) -> WorkerProcess:
        with app.connection_for_write() as connection:
            for queue in (settings.CELERY_TASK_DEFAULT_QUEUE, settings.WEBHOOK_QUEUE):
                connection.default_channel.queue_purge(queue)
        log = tmp_path / f"worker-{len(workers)}.log"
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "config.settings.test",
            "DATABASE_URL": _database_url(),
            "TEST_REDIS_URL": redis_url,
            "TEST_CELERY_QUEUE": settings.CELERY_TASK_DEFAULT_QUEUE,
            "PRIVATE_STORAGE_ROOT": str(settings.PRIVATE_STORAGE_ROOT),
            "EXTRACTION_RETRY_BACKOFF_SECONDS": "1",
            "OMP_THREAD_LIMIT": "1",
            **overrides,
        }
        if "EXTRACTION_PROVIDER" in overrides:
            env["TEST_EXTRACTION_PROVIDER"] = overrides["EXTRACTION_PROVIDER"]
        with log.open("w") as handle:
            process = subprocess.Popen(  # noqa: S603
                [
                    sys.executable,
                    "-m",
                    "celery",
                    "-A",
                    "config",
                    "worker",
                    "--pool=solo",
                    "--loglevel=INFO",
                    "--without-gossip",
                    "--without-mingle",
                    "--without-heartbeat",
                    "-Q",
                    f"{settings.CELERY_TASK_DEFAULT_QUEUE},{settings.WEBHOOK_QUEUE}",
                    "-n",
                    f"test-{os.getpid()}-{len(workers)}@%h",
                ],
                cwd=ROOT,
                env=env,
                stdout=handle,
                stderr=subprocess.STDOUT,
            )
        worker = WorkerProcess(process, log)
        workers.append(worker)
        deadline = time.monotonic() + 30
        while "ready." not in worker.output():
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                pytest.fail(f"The Celery worker did not start:\n{worker.output()}")
            time.sleep(0.1)
        return worker

    yield start
    for worker in workers:
        worker.stop()


@pytest.fixture
def celery_worker_process(start_worker):
    """A real worker with the default (local) provider."""
    return start_worker()


@pytest.fixture
def shipped_types(db):
    from extraction.catalog import document_types_sync

    return {document_type.key: document_type for document_type in document_types_sync()}


@pytest.fixture
def staff_groups(db):
    from accounts.roles import staff_groups_ensure

    return staff_groups_ensure()


@pytest.fixture(scope="session")
def sample_documents(tmp_path_factory):
    """The generated sample documents with their expected values, made once per run."""
    from samples.generate import generate_samples

    folder = tmp_path_factory.mktemp("samples")
    generate_samples(folder)
    return folder


@pytest.fixture
def client_for():
    """A test client signed in as the given user."""
    from django.test import Client

    def make(user) -> Client:
        client = Client()
        client.force_login(user)
        return client

    return make
