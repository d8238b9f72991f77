#!/usr/bin/env bash
# System services some tests need (Debian packages): PostgreSQL, headless Chromium, HAProxy.
# .ci/run calls this before the README's test command; tests that need these skip with a
# reason when they are absent, and fail instead when REDLINE_REQUIRE_SYSTEM_DEPS=1 (CI).
set -euo pipefail

# Headless Chromium: the safety-case report test opens report.html and takes a screenshot.
if ! command -v chromium >/dev/null 2>&1; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium
fi

# HAProxy: tests/guard/test_replicas_load.py balances two guard replicas with it (the test
# starts its own haproxy with its own config; the package's service is not needed).
if ! command -v haproxy >/dev/null 2>&1 && [ ! -x /usr/sbin/haproxy ]; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq haproxy
fi

# PostgreSQL for tests/store/test_postgres.py: install, start the Debian cluster, make a
# role, and write the URL the tests read. This script runs in a subshell, so an exported
# variable would not reach pytest; the tests read REDLINE_TEST_PG_URL_FILE instead (and,
# failing that, start a throwaway cluster of their own).
if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql
fi
pg_version=$(ls /usr/lib/postgresql | sort -V | tail -1)
pg_lsclusters -h | grep -q "^$pg_version main" || pg_createcluster "$pg_version" main
pg_ctlcluster "$pg_version" main start || true  # exits non-zero when it is already running
pg_port=$(pg_lsclusters -h | awk -v v="$pg_version" '$1 == v && $2 == "main" {print $3}')
runuser -u postgres -- psql -p "$pg_port" -qc "DO \$\$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'redline') THEN
    CREATE ROLE redline LOGIN CREATEDB PASSWORD 'redline';
  END IF; END \$\$;"
echo "postgresql+psycopg://redline:redline@127.0.0.1:$pg_port/postgres" \
  > "${REDLINE_TEST_PG_URL_FILE:-/tmp/redline-test-pg.url}"
