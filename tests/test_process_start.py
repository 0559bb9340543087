"""What a long-lived process does once at its start."""

import gc
import subprocess
import sys
from pathlib import Path

from celery import current_app
from celery.signals import worker_process_init

import config.celery  # noqa: F401 - connects the pool processes' start-up receivers
import extraction.tasks  # noqa: F401 - as a worker imports its tasks before its pool starts
from extraction import sandbox

ROOT = Path(__file__).resolve().parent.parent


def test_a_worker_pool_process_keeps_its_start_up_objects_out_of_the_collector():
    gc.unfreeze()
    try:
        worker_process_init.send(sender=None)
        assert gc.get_freeze_count() > 1000
    finally:
        gc.unfreeze()
        sandbox.zygotes_close()  # the render zygote the same signal starts


def test_a_web_process_keeps_its_start_up_objects_out_of_the_collector():
    script = (
        "import gc, os, sys; sys.path.insert(0, sys.argv[1]); "
        "os.environ['DJANGO_SETTINGS_MODULE'] = 'config.settings.test'; "
        "import config.wsgi; print(gc.get_freeze_count())"
    )
    out = subprocess.run(  # noqa: S603
        [sys.executable, "-c", script, str(ROOT)], capture_output=True, text=True, timeout=60
    )
    assert int(out.stdout.split()[-1]) > 10000


def test_a_worker_on_other_queues_only_starts_no_renderer(monkeypatch):
    """A webhooks-only worker (``-Q webhooks``) renders no page: its pool processes start no
    render zygote; a worker on the documents' queue does."""
    started = []
    monkeypatch.setattr(sandbox, "prestart", lambda job, **_: started.append(job))
    queues = current_app.amqp.queues
    default = current_app.conf.task_default_queue
    monkeypatch.setattr(queues, "_consume_from", {"webhooks": None})  # `-Q webhooks`
    worker_process_init.send(sender=None)
    assert started == []
    monkeypatch.setattr(queues, "_consume_from", {default: None, "webhooks": None})
    worker_process_init.send(sender=None)
    assert started == ["render"]
    gc.unfreeze()
