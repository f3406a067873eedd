#!/usr/bin/env bash
# Installs Debian's PostgreSQL server binaries for the Postgres tests (tests/postgres_server.py
# starts its own throw-away server from them on a free 127.0.0.1 port).
# Idempotent: nothing is installed when /usr/lib/postgresql/*/bin/initdb exists. No cluster
# is created or started here. Only root installs; anyone else gets a one-line note and the
# Postgres tests skip with that reason. Under root the test server runs as the `postgres`
# OS user (PostgreSQL refuses root), created here when missing.
set -euo pipefail

have_binaries() {
  compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null
}

ensure_user() {
  if [ "$(id -u)" = "0" ] && ! id postgres >/dev/null 2>&1; then
    useradd --system --no-create-home --shell /usr/sbin/nologin postgres
  fi
}

if have_binaries; then
  ensure_user
  exit 0
fi
if [ "$(id -u)" != "0" ]; then
  echo "ensure_postgres: PostgreSQL is missing and we are not root; the Postgres tests" \
       "will be skipped (apt-get install postgresql to run them)" >&2
  exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "ensure_postgres: no apt-get on this machine; install PostgreSQL and set" \
       "RUNWIRE_PG_BIN to its bin folder" >&2
  exit 1
fi
echo "ensure_postgres: installing Debian's postgresql for the Postgres tests" >&2
export DEBIAN_FRONTEND=noninteractive
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
# postgresql-common first, told not to create (and start) the default cluster: the tests
# start their own server; apt's chatter goes to a log, shown only when the install fails
if ! {
  apt-get update -qq &&
    apt-get install -y -qq --no-install-recommends postgresql-common &&
    sed -i 's/^#\? *create_main_cluster *=.*/create_main_cluster = false/' \
      /etc/postgresql-common/createcluster.conf &&
    apt-get install -y -qq --no-install-recommends postgresql
} >"$log" 2>&1 || ! have_binaries; then
  cat "$log" >&2
  echo "ensure_postgres: installing postgresql failed" >&2
  exit 1
fi
ensure_user
