#!/usr/bin/env bash
# Every test this machine can run: the whole suite on SQLite (browser tests included when
# Debian's chromium is installed), then again on PostgreSQL when a server answers.
# CI sets WAYPOINT_REQUIRE_PG=1 and WAYPOINT_REQUIRE_BROWSER=1 so that nothing is skipped there.
set -uo pipefail
cd "$(dirname "$0")/.."
bin=.venv/bin
pg_url="${WAYPOINT_TEST_PG_URL:-postgres://postgres@127.0.0.1:5432/waypoint}"
status=0
skipped=()

echo "== Test suite on SQLite"
unset DATABASE_URL
$bin/pytest -q || status=1
[ -x /usr/bin/chromium ] || skipped+=("browser tests: /usr/bin/chromium is not installed (apt-get install chromium)")

echo "== Test suite on PostgreSQL ($pg_url)"
if $bin/python - "$pg_url" <<'PY' 2>/dev/null
import sys, psycopg
url = sys.argv[1].rsplit("/", 1)[0] + "/postgres"
psycopg.connect(url.replace("postgres://", "postgresql://", 1), connect_timeout=3).close()
PY
then
  DATABASE_URL="$pg_url" $bin/pytest -q -m "not browser" || status=1
elif [ "${WAYPOINT_REQUIRE_PG:-0}" = "1" ]; then
  echo "PostgreSQL is required (WAYPOINT_REQUIRE_PG=1) but no server answers at $pg_url"
  status=1
else
  skipped+=("PostgreSQL suite: no server answers at $pg_url (set WAYPOINT_TEST_PG_URL)")
fi

if [ ${#skipped[@]} -gt 0 ]; then
  echo
  echo "SKIPPED on this machine:"
  printf '  - %s\n' "${skipped[@]}"
fi
exit $status
