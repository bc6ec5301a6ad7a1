#!/usr/bin/env bash
# Soak test: MINUTES (default 30) of mixed load on the release build — readers
# fetching pages and posting comments, an Akismet client checking comments,
# an editor editing articles — sampling the server's resident memory every
# 10 s. Prints the RSS table, 5xx count and p50/p99 per route, and the
# database and WAL size at the end; writes an SVG chart of the RSS.
#
#   scripts/soak.sh [MINUTES] [OUT_DIR]    (OUT_DIR default: target/soak)
set -euo pipefail
cd "$(dirname "$0")/.."
MINUTES="${1:-30}"
OUT="${2:-target/soak}"
PORT=18091

cargo build --release --quiet
mkdir -p "$OUT"
WORK=$(mktemp -d)
trap 'kill "${PID:-}" 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$WORK"' EXIT
BIN=./target/release/broadsheet
ARGS=(--data-dir "$WORK/data" --addr "127.0.0.1:$PORT")
KEY=$("$BIN" "${ARGS[@]}" apikey create --site https://blog.example.org 2>/dev/null)
# Readers here post as fast as the load allows, all from one address.
"$BIN" "${ARGS[@]}" settings set flood_seconds 0 >/dev/null
"$BIN" "${ARGS[@]}" settings set min_seconds_to_submit 0 >/dev/null
"$BIN" "${ARGS[@]}" serve >"$WORK/server.log" 2>&1 & PID=$!
until curl -fs "http://127.0.0.1:$PORT/healthz" >/dev/null 2>&1; do sleep 0.1; done
EMAIL=$(sed -n 's/^ *email: *//p' "$WORK/server.log" | head -1)
PASSWORD=$(sed -n 's/^ *password: *//p' "$WORK/server.log" | head -1)

echo "## Soak: $MINUTES minutes of mixed load, $(nproc) cores, $(date -u +%Y-%m-%d)"
echo
status=0
python3 scripts/soak.py --port "$PORT" --pid "$PID" --minutes "$MINUTES" --key "$KEY" \
  --email "$EMAIL" --password "$PASSWORD" --chart "$OUT/soak-rss.svg" || status=$?
echo
size() { stat -c %s "$1" 2>/dev/null || echo 0; }
echo "Database at the end: $(( $(size "$WORK/data/broadsheet.db") / 1024 )) KiB, WAL $(( $(size "$WORK/data/broadsheet.db-wal") / 1024 )) KiB;" \
  "comments stored: $(sqlite3 "$WORK/data/broadsheet.db" 'SELECT COUNT(*) FROM comments' 2>/dev/null || echo '?')"
echo "Server log: $(grep -c '"request"\|request' "$WORK/server.log") request lines, $(grep -ci 'panic' "$WORK/server.log" || true) panics, $(grep -c ' ERROR ' "$WORK/server.log" || true) errors"
echo "Chart: $OUT/soak-rss.svg"
exit "$status"
