"""Every page carries a Content-Security-Policy that allows no inline code and no eval."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from django.urls import reverse

TEMPLATES = Path(__file__).resolve().parents[1] / "templates"

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("name", ["account_login", "home", "admin:login"])
def test_pages_send_a_strict_content_security_policy(client, name):
    response = client.get(reverse(name), follow=True)
    policy = response["Content-Security-Policy"]
    directives = dict(part.strip().split(" ", 1) for part in policy.split(";") if part.strip())
    assert directives["script-src"] == "'self'"
    assert directives["style-src"] == "'self'"
    assert directives["object-src"] == "'none'"
    assert directives["frame-ancestors"] == "'none'"
    assert "unsafe" not in policy


def test_no_template_holds_inline_script_style_or_handlers():
    """Inline code would be refused by the policy, so none is written."""
    offenders = []
    for path in TEMPLATES.rglob("*.html"):
        text = path.read_text()
        if re.search(r"<script(?![^>]*\bsrc=)(?![^>]*application/json)", text):
            offenders.append(f"{path.name}: inline <script>")
        if re.search(r"<style\b|\sstyle=\"|\son[a-z]+=|hx-on|javascript:", text):
            offenders.append(f"{path.name}: inline style or handler")
    assert offenders == []


def test_htmx_is_configured_to_need_no_eval(client):
    page = client.get(reverse("account_login")).content.decode()
    meta = re.search(r'<meta name="htmx-config" content=\'([^\']+)\'>', page)
    config = json.loads(meta.group(1))
    assert config["allowEval"] is False
    assert config["includeIndicatorStyles"] is False
    assert "style" not in config["attributesToSettle"]


def test_violation_reports_are_logged_and_kept(client, caplog):
    from core.csp import VIOLATIONS

    VIOLATIONS.clear()
    report = {
        "csp-report": {
            "document-uri": "http://127.0.0.1:8000/",
            "violated-directive": "script-src-elem",
            "blocked-uri": "inline",
        }
    }
    response = client.post(
        reverse("csp_report"), json.dumps(report), content_type="application/csp-report"
    )
    assert response.status_code == 204
    assert VIOLATIONS[-1]["blocked-uri"] == "inline"
    assert "CSP violation" in caplog.text
    VIOLATIONS.clear()
