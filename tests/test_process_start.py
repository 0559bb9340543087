"""What a long-lived process does once at its start."""

import gc
import subprocess
import sys
from pathlib import Path

from celery.signals import worker_process_init

import config.celery  # noqa: F401 - connects the pool processes' start-up receivers
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
