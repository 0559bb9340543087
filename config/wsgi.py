import gc
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.production")

application = get_wsgi_application()

# Everything loaded at start-up lives as long as the process: out of the garbage collector's
# sight, a full collection no longer rescans it (a quarter of a second of CPU each time).
gc.freeze()
