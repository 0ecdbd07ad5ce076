#!/usr/bin/env bash
# The whole suite, as `make test` runs it: lint, types, migrations, deploy checks,
# then pytest on SQLite and again on PostgreSQL. Ends with one line of counts.
set -uo pipefail
cd "$(dirname "$0")/.."
bin=.venv/bin
mkdir -p var/test-results
rm -f var/test-results/*.xml
failed=0
step() { echo; echo "== $*"; }
run() { "$@" || { echo "FAILED: $*"; failed=1; }; }

step "ruff (lint and format)"
run "$bin/ruff" check .
run "$bin/ruff" format --check .

step "mypy"
run "$bin/mypy" .

step "migrations are up to date"
run env DJANGO_SETTINGS_MODULE=config.settings.test "$bin/python" manage.py makemigrations --check --dry-run

step "every text is in the catalogues, and Chinese is complete"
if command -v xgettext >/dev/null 2>&1; then
  run env DJANGO_SETTINGS_MODULE=config.settings.test "$bin/python" manage.py makemessages \
    -l zh_Hans -l en --no-obsolete -i .venv -i var -i tests -i "*/tests/*" --verbosity 0
  run "$bin/python" scripts/check_messages.py
elif [ -n "${CI:-}" ]; then
  echo "FAILED: xgettext (GNU gettext) is needed to extract texts"; failed=1
else
  echo "SKIPPED: xgettext is missing (apt-get install gettext)"
fi

step "OpenAPI schema is valid and complete"
run env DJANGO_SETTINGS_MODULE=config.settings.test "$bin/python" manage.py spectacular --validate --fail-on-warn --file /dev/null

step "deploy checks against production settings (example environment)"
run env $(grep -v '^#' .env.example | grep -v '^$' | xargs) DJANGO_SETTINGS_MODULE=config.settings.production \
  "$bin/python" manage.py check --deploy --fail-level WARNING

step "browser for page tests"
run scripts/ensure_chromium.sh

step "pytest on SQLite"
run env DATABASE_URL=sqlite:///var/test-results/linli-test.sqlite3 \
  "$bin/pytest" -p no:cacheprovider --junitxml=var/test-results/sqlite.xml "$@"

step "pytest on PostgreSQL"
PG_URL=${LINLI_TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/linli}
if "$bin/python" scripts/db_ready.py "$PG_URL"; then
  run env DATABASE_URL="$PG_URL" "$bin/pytest" -p no:cacheprovider --junitxml=var/test-results/postgresql.xml "$@"
elif [ -n "${CI:-}" ]; then
  echo "FAILED: PostgreSQL is not answering at $PG_URL, and CI requires it"
  failed=1
else
  echo "SKIPPED: PostgreSQL is not answering at $PG_URL (set LINLI_TEST_POSTGRES_URL)"
fi

echo
"$bin/python" scripts/test_summary.py var/test-results/*.xml || failed=1
exit $failed
