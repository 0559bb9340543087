import gc
import os

from celery import Celery
from celery.signals import worker_process_init

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

app = Celery("attest")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@worker_process_init.connect
def _freeze_startup_objects(**_kwargs) -> None:
    """What a pool process has loaded by now (Django, the apps, the libraries: some 380,000
    objects) lives as long as the process: out of the collector's sight, a full collection
    takes milliseconds instead of a quarter of a second of CPU every few documents."""
    gc.freeze()
