#!/usr/bin/env bash
# Installs Debian's Chromium for the browser tests (tests/test_server_playground.py).
# Idempotent: nothing happens when /usr/bin/chromium exists. Only root installs; anyone
# else gets a one-line note and the browser tests skip with that reason.
set -euo pipefail

if [ -x /usr/bin/chromium ]; then
  exit 0
fi
if [ "$(id -u)" != "0" ]; then
  echo "ensure_chromium: /usr/bin/chromium is missing and we are not root;" \
       "the browser tests will be skipped (apt-get install chromium to run them)" >&2
  exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "ensure_chromium: no apt-get on this machine; install Chromium as /usr/bin/chromium" >&2
  exit 1
fi
echo "ensure_chromium: installing Debian's chromium for the browser tests" >&2
export DEBIAN_FRONTEND=noninteractive
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
# apt's chatter goes to a log, shown only when the install fails
if ! { apt-get update -qq && apt-get install -y -qq --no-install-recommends chromium; } \
    >"$log" 2>&1 || [ ! -x /usr/bin/chromium ]; then
  cat "$log" >&2
  echo "ensure_chromium: installing chromium failed" >&2
  exit 1
fi
