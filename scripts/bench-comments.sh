#!/usr/bin/env bash
# Comment posting under load: 50 concurrent posters (wrk) sending valid,
# distinct comments to one article, each validated, checked against the
# policies, stored in SQLite (committed, synchronous=FULL) and invalidating
# the article page. Prints throughput and the server's own time per request
# (from its request log), p50/p99.
#
#   scripts/bench-comments.sh [seconds] [connections]
#
# BIN=path/to/broadsheet measures another build (to compare two side by side).
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION="${1:-10}"
CONNECTIONS="${2:-50}"
PORT=18082

command -v wrk >/dev/null 2>&1 || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk curl; }
cargo build --release --quiet
WORK=$(mktemp -d)
echo "work directory: $WORK (kept with KEEP=1)"
trap 'kill "${PID:-}" 2>/dev/null || true; wait 2>/dev/null || true; [ -n "${KEEP:-}" ] || rm -rf "$WORK"' EXIT
BIN="${BIN:-./target/release/broadsheet}"
ARGS=(--data-dir "$WORK/data" --addr "127.0.0.1:$PORT" --log-format json)

# Every poster comes from 127.0.0.1: switch off the per-IP flood limit (as
# PRODUCT.md's WordPress figure was measured) and approve on arrival, so each
# comment also invalidates the cached article, front page and archives.
"$BIN" "${ARGS[@]}" serve >"$WORK/first.log" 2>&1 & PID=$!
until curl -fs "http://127.0.0.1:$PORT/healthz" >/dev/null 2>&1; do sleep 0.1; done
kill "$PID"; wait "$PID" 2>/dev/null || true
for setting in "flood_seconds 0" "hold_first_time false" "min_seconds_to_submit 0" "max_links 10"; do
  # shellcheck disable=SC2086
  "$BIN" "${ARGS[@]}" settings set $setting
done
"$BIN" "${ARGS[@]}" serve >"$WORK/server.log" 2>&1 & PID=$!
until curl -fs "http://127.0.0.1:$PORT/healthz" >/dev/null 2>&1; do sleep 0.1; done

ARTICLE=$(curl -fs "http://127.0.0.1:$PORT/" | grep -o 'class="lead-headline"><a href="[^"]*"' | sed 's/.*href="//; s/"$//')
TOKEN=$(curl -fs "http://127.0.0.1:$PORT$ARTICLE" | grep -o 'name="token" value="[^"]*"' | sed 's/.*value="//; s/"$//')
cat >"$WORK/post.lua" <<LUA
-- Each request: a distinct comment from a distinct reader.
-- (wrk runs this file once per thread: \`thread_id\` is set by setup, a global.)
local counter = 0
local threads = 0
setup = function(thread) threads = threads + 1; thread:set("thread_id", threads) end
request = function()
  counter = counter + 1
  local n = thread_id .. "-" .. counter
  local body = "token=$TOKEN&author=Reader+" .. n .. "&email=reader" .. n .. "%40example.org"
    .. "&comment=Comment+number+" .. n .. "+on+the+ferry+trial%3A+the+late+boat+will+help+island+families."
  return wrk.format("POST", "$ARTICLE", {["Content-Type"] = "application/x-www-form-urlencoded",
    ["User-Agent"] = "Mozilla/5.0 (X11; Linux x86_64) Chrome/156.0"}, body)
end
LUA
# Readers take a while to write: a form sent seconds after it was shown looks like a bot.
sleep 15
wrk -t2 -c"$CONNECTIONS" -d"${DURATION}s" --latency -s "$WORK/post.lua" "http://127.0.0.1:$PORT" >"$WORK/wrk.txt"
sleep 0.5
STORED=$("$BIN" "${ARGS[@]}" comments list --status approved --limit 1000000 | grep -c ' approved ' || true)
echo "comment posting: wrk -t2 -c$CONNECTIONS -d${DURATION}s, POST $ARTICLE, $(nproc) cores"
awk '/Requests\/sec/ {print "  throughput:        " $2 " comments/s"} $1=="99%" {print "  client p99:        " $2}' "$WORK/wrk.txt"
grep -q "Non-2xx" "$WORK/wrk.txt" && grep "Non-2xx" "$WORK/wrk.txt"
echo "  stored (approved): $STORED"
grep '"http.method":"POST"' "$WORK/server.log" | grep -o '"latency_us":[0-9]*' | cut -d: -f2 | sort -n | awk '
  { v[NR] = $1 }
  END {
    if (NR == 0) { print "  no POST lines in the server log"; exit 1 }
    printf "  server time:       p50 %.2f ms, p99 %.2f ms, max %.2f ms over %d posts\n",
      v[int(NR * 0.50)] / 1000, v[int(NR * 0.99)] / 1000, v[NR] / 1000, NR
  }'
