"""Where browsers report Content-Security-Policy violations: each one is logged as a warning.

A violation in production means either a page that still needs inline code (a bug to fix) or
an injection attempt the policy stopped; both belong in the logs. ``VIOLATIONS`` keeps the
latest reports in memory so that the browser tests can assert there were none.
"""

from __future__ import annotations

import json
import logging
from collections import deque

from django.http import HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

logger = logging.getLogger(__name__)

# Reports are small; anything longer is cut before it is parsed or logged.
MAX_REPORT_BYTES = 16 * 1024
VIOLATIONS: deque[dict] = deque(maxlen=100)


@csrf_exempt  # browsers send reports without a CSRF token; the view only logs
@require_POST
def csp_report(request):
    """Log one violation report (``application/csp-report`` or ``application/reports+json``)."""
    body = request.read(MAX_REPORT_BYTES)
    try:
        report = json.loads(body or b"{}")
    except ValueError:
        return HttpResponse(status=400)
    reports = report if isinstance(report, list) else [report]
    for item in reports:
        if not isinstance(item, dict):
            continue
        detail = item.get("csp-report") or item.get("body") or item
        VIOLATIONS.append(detail)
        logger.warning(
            "CSP violation: %s blocked %s on %s",
            str(detail.get("violated-directive") or detail.get("effectiveDirective"))[:100],
            str(detail.get("blocked-uri") or detail.get("blockedURL"))[:200],
            str(detail.get("document-uri") or detail.get("documentURL"))[:200],
        )
    return HttpResponse(status=204)
