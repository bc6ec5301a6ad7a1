#!/usr/bin/env bash
# The Akismet-compatible API under load: wrk POSTs /1.1/comment-check with a
# realistic WordPress-style body (a different comment each time) and prints
# requests/s and latency percentiles.
#
#   scripts/bench-akismet.sh [seconds] [connections]
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION="${1:-10}"
CONNECTIONS="${2:-64}"
PORT=18083

command -v wrk >/dev/null 2>&1 || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk curl; }
cargo build --release --quiet
WORK=$(mktemp -d)
trap 'kill "${PID:-}" 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$WORK"' EXIT
BIN=./target/release/broadsheet
ARGS=(--data-dir "$WORK/data" --addr "127.0.0.1:$PORT")
KEY=$("$BIN" "${ARGS[@]}" apikey create --site https://blog.example.org 2>/dev/null)
"$BIN" "${ARGS[@]}" serve --no-demo >"$WORK/server.log" 2>&1 & PID=$!
until curl -fs "http://127.0.0.1:$PORT/healthz" >/dev/null 2>&1; do sleep 0.1; done

cat >"$WORK/check.lua" <<LUA
-- A different comment each request, with the parameters WordPress sends.
local texts = {
  "Great article, I completely agree with the point about the ferry timetable.",
  "Check out my channel and subscribe!!! http://bit.ly/freemoney",
  "The council meeting is on Thursday; the minutes should be published by Friday.",
  "cheap loans fast approval visit www . cheap-loans . example now",
  "I grew up on the islands and the late boat would have changed everything for us.",
}
local counter = 0
request = function()
  counter = counter + 1
  local text = texts[(counter % #texts) + 1] .. " " .. counter
  local body = "api_key=$KEY&blog=https%3A%2F%2Fblog.example.org&user_ip=203.0.113." .. (counter % 250)
    .. "&user_agent=Mozilla%2F5.0+(X11%3B+Linux+x86_64)&referrer=https%3A%2F%2Fwww.example.com%2F"
    .. "&permalink=https%3A%2F%2Fblog.example.org%2F2026%2F11%2Fpost%2F&comment_type=comment"
    .. "&comment_author=Reader+" .. counter .. "&comment_author_email=reader" .. counter .. "%40example.org"
    .. "&comment_content=" .. text:gsub(" ", "+") .. "&blog_lang=en_us&blog_charset=UTF-8"
  return wrk.format("POST", "/1.1/comment-check", {["Content-Type"] = "application/x-www-form-urlencoded"}, body)
end
LUA
wrk -t2 -c"$CONNECTIONS" -d2s -s "$WORK/check.lua" "http://127.0.0.1:$PORT" >/dev/null
wrk -t2 -c"$CONNECTIONS" -d"${DURATION}s" --latency -s "$WORK/check.lua" "http://127.0.0.1:$PORT" >"$WORK/wrk.txt"
echo "comment-check: wrk -t2 -c$CONNECTIONS -d${DURATION}s, $(nproc) cores"
awk '/Requests\/sec/ {print "  throughput: " $2 " requests/s"} $1=="50%" || $1=="99%" {print "  " $1 " latency: " $2}' "$WORK/wrk.txt"
if grep -q "Non-2xx" "$WORK/wrk.txt"; then grep "Non-2xx" "$WORK/wrk.txt"; exit 1; fi
