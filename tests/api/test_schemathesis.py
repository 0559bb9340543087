"""Schemathesis against the generated OpenAPI description, over HTTP to a live server: a
bounded run (SCHEMATHESIS_MAX_EXAMPLES per operation) in which no answer is a server error
and every answer matches the description (status code, content type, headers, body schema).

It calls every operation as an admin's key with every scope, on a world holding a draft and a
submitted application, twice: with the ids Schemathesis makes up (mostly 404: the error paths)
and with the path ids pinned to the submitted application and its document (the reading and
deciding paths). The figures of the last run are in docs/api.md."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.django_db(transaction=True)

MAX_EXAMPLES = int(os.environ.get("SCHEMATHESIS_MAX_EXAMPLES", "25"))
CHECKS = ",".join(
    (
        "not_a_server_error",
        "status_code_conformance",
        "content_type_conformance",
        "response_headers_conformance",
        "response_schema_conformance",
    )
)


@pytest.mark.parametrize("ids", ["generated", "pinned"])
def test_schemathesis_finds_no_server_error_and_no_schema_violation(
    world, live_server, settings, tmp_path, ids
):
    settings.API_RATE_LIMIT = "100000/min"
    if ids == "pinned":
        document = world.submitted.documents.first()
        (tmp_path / "schemathesis.toml").write_text(
            "[parameters]\n"
            f'"path.application_id" = {world.submitted.pk}\n'
            f'"path.document_id" = {document.pk}\n'
            '"path.number" = 1\n'
        )
    cli = Path(sys.executable).with_name("schemathesis")
    command = [
        str(cli),
        "run",
        f"{live_server.url}/api/v1/openapi.json",
        "--url",
        live_server.url,
        "-H",
        f"Authorization: Bearer {world.keys['admin']}",
        "--checks",
        CHECKS,
        "--max-examples",
        str(MAX_EXAMPLES),
        "--phases",
        "examples,coverage,fuzzing",
        "--workers",
        "1",
        "--seed",
        "15",
        "--request-timeout",
        "30",
        "--no-color",
    ]
    result = subprocess.run(  # noqa: S603 - our own CLI, fixed arguments
        command, capture_output=True, text=True, timeout=900, cwd=tmp_path, check=False
    )
    output = result.stdout + result.stderr
    log = os.environ.get("SCHEMATHESIS_LOG", "")
    Path(f"{log}.{ids}" if log else tmp_path / "schemathesis.log").write_text(output)
    print(output[-3000:])  # noqa: T201 - the figures, for the closing note
    assert result.returncode == 0, output[-6000:]
    assert re.search(r"\b0 failures|No issues found", output) or "failures" not in output
