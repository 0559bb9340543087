#!/usr/bin/env bash
# `make test`: lint, migrations check, then the whole suite on SQLite and again on PostgreSQL.
# Extra arguments go to pytest (e.g. `scripts/test.sh -k upload`).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
export DJANGO_SETTINGS_MODULE=config.settings.test

scripts/services.sh

echo "== ruff"
$PY -m ruff check --quiet .
$PY -m ruff format --check --quiet .
echo "== layers hold (import-linter)"
.venv/bin/lint-imports --no-cache >/dev/null || .venv/bin/lint-imports --no-cache
echo "== migrations are current"
$PY manage.py makemigrations --check --dry-run >/dev/null

echo "== tests on SQLite"
env -u DATABASE_URL $PY -m pytest "$@"

PG_URL=${TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/attest}
if command -v pg_isready >/dev/null 2>&1 && pg_isready -q -h 127.0.0.1 -p 5432; then
  echo "== tests on PostgreSQL ($PG_URL); the browser tests ran on SQLite already"
  DATABASE_URL=$PG_URL $PY -m pytest -m "not browser" "$@"
elif [ -n "${CI:-}" ]; then
  echo "PostgreSQL is not reachable on 127.0.0.1:5432; CI needs it." >&2
  exit 1
else
  echo "== PostgreSQL not reachable on 127.0.0.1:5432: skipped the PostgreSQL run"
fi
