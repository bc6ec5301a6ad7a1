#!/usr/bin/env bash
# The cost of each kind of request on each backend, for the capacity model
# (docs/scaling.md): one server on SQLite, then one server on PostgreSQL,
# each loaded by wrk with one kind of request at a time. For each it prints
# requests/s, p99, and the CPU time spent per request by the Broadsheet
# server and by PostgreSQL (read from /proc before and after the run), so
# that the cost of a mix can be added up from its parts.
#
#   scripts/bench-routes.sh [seconds] [connections] [articles]
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION="${1:-10}"
CONNECTIONS="${2:-32}"
ARTICLES="${3:-1000}"

for tool in wrk curl; do
  command -v "$tool" >/dev/null 2>&1 || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends wrk curl; break; }
done
dpkg -s postgresql >/dev/null 2>&1 || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends postgresql; }
cargo build --release --quiet
BIN=$(realpath target/release/broadsheet)
WORK=$(mktemp -d)
chmod 755 "$WORK"
PG_BIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
as_postgres() { if [ "$(id -u)" = 0 ]; then su postgres -s /bin/sh -c "$1"; else sh -c "$1"; fi; }
SERVER_PID=""
cleanup() {
  [ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null || true
  [ -d "$WORK/pg" ] && as_postgres "'$PG_BIN/pg_ctl' -D '$WORK/pg' -m fast stop" >/dev/null 2>&1 || true
  wait 2>/dev/null || true
  [ -n "${KEEP:-}" ] || rm -rf "$WORK"
}
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
wait_up() { for _ in $(seq 1 300); do curl -fs "$1/healthz" >/dev/null 2>&1 && return 0; sleep 0.1; done; echo "$1 did not start" >&2; exit 1; }
# CPU ticks (user + system) of some processes.
ticks() { local sum=0 pid; for pid in "$@"; do [ -r "/proc/$pid/stat" ] && sum=$((sum + $(awk '{print $14 + $15}' "/proc/$pid/stat"))); done; echo "$sum"; }
HZ=$(getconf CLK_TCK)

PG_PORT=$(free_port)
[ "$(id -u)" = 0 ] && chown postgres: "$WORK"
as_postgres "'$PG_BIN/initdb' -D '$WORK/pg' -A trust -U postgres >/dev/null"
as_postgres "'$PG_BIN/pg_ctl' -D '$WORK/pg' -l '$WORK/pg.log' -w -o \"-p $PG_PORT -k '$WORK' -c listen_addresses=127.0.0.1\" start >/dev/null"
chmod 755 "$WORK"
PG_MAIN=$(head -1 "$WORK/pg/postmaster.pid")
# The PostgreSQL server's processes: its postmaster and every child of it.
pg_tree() { echo "$PG_MAIN"; pgrep -P "$PG_MAIN" || true; }
python3 scripts/search-corpus.py "$WORK/corpus" "$ARTICLES" 300 10 >/dev/null

printf '%-12s %-22s %10s %10s %16s %16s\n' backend request "req/s" p99 "server ms/req" "database ms/req"
for backend in sqlite postgres; do
  args=(--data-dir "$WORK/$backend")
  [ "$backend" = postgres ] && args+=(--database-url "postgres://postgres@127.0.0.1:$PG_PORT/postgres")
  find "$WORK/corpus" -name '*.md' -print0 | xargs -0 "$BIN" "${args[@]}" publish >/dev/null
  for setting in "flood_seconds 0" "hold_first_time false" "min_seconds_to_submit 0" "max_links 10"; do
    # shellcheck disable=SC2086
    "$BIN" "${args[@]}" settings set $setting >/dev/null
  done
  PORT=$(free_port)
  "$BIN" "${args[@]}" --addr "127.0.0.1:$PORT" --base-url "http://127.0.0.1:$PORT" serve --no-demo >"$WORK/$backend.log" 2>&1 &
  SERVER_PID=$!
  wait_up "http://127.0.0.1:$PORT"
  BASE="http://127.0.0.1:$PORT"
  mapfile -t sitemaps < <(curl -fs "$BASE/sitemap.xml" | grep -o '<loc>[^<]*</loc>' | sed 's/<[^>]*>//g')
  paths=()
  for map in "${sitemaps[@]}"; do
    case "$map" in *sitemap-articles*|*sitemap-posts*|*20[0-9][0-9]-[0-9][0-9]*) ;; *) continue ;; esac
    mapfile -t -O "${#paths[@]}" paths < <(curl -fs "$map" | grep -o '<loc>[^<]*</loc>' | sed 's/<[^>]*>//g; s#^https\?://[^/]*##')
  done
  [ "${#paths[@]}" -gt 0 ] || { echo "no articles found in the sitemaps" >&2; exit 1; }
  TOKEN=$(curl -fs "$BASE${paths[0]}" | grep -o 'name="token" value="[^"]*"' | sed 's/.*value="//; s/"$//')
  {
    echo "local paths = {"; printf '  "%s",\n' "${paths[@]:0:100}"; echo "}"
    cat <<LUA
local kind = os.getenv("KIND")
local threads = {}
setup = function(thread) table.insert(threads, thread); thread:set("id", #threads) end
init = function() math.randomseed(id * 7919); counter = 0 end
request = function()
  if kind == "front" then return wrk.format("GET", "/") end
  local path = paths[math.random(1, #paths)]
  if kind == "rendered" then return wrk.format("GET", path .. "?replytocom=1") end
  if kind == "comment" then
    counter = counter + 1
    local n = id .. "-" .. counter
    local body = "token=$TOKEN&author=Reader+" .. n .. "&email=reader" .. n .. "%40example.org"
      .. "&comment=Comment+" .. n .. "+on+this+story%3A+the+council+should+answer+the+islanders."
    return wrk.format("POST", "${paths[0]}", {["Content-Type"] = "application/x-www-form-urlencoded",
      ["User-Agent"] = "Mozilla/5.0 (X11; Linux x86_64) Chrome/156.0"}, body)
  end
  return wrk.format("GET", path)
end
LUA
  } >"$WORK/routes.lua"
  # Warm the cache with each article once.
  for path in "${paths[@]:0:100}"; do curl -fs -o /dev/null "$BASE$path"; done
  for kind in article front rendered comment; do
    s0=$(ticks "$SERVER_PID"); d0=0
    [ "$backend" = postgres ] && d0=$(ticks $(pg_tree))
    KIND=$kind wrk -t2 -c"$CONNECTIONS" -d"${DURATION}s" --latency -s "$WORK/routes.lua" "$BASE" >"$WORK/$backend-$kind.txt"
    s1=$(ticks "$SERVER_PID"); d1=0
    [ "$backend" = postgres ] && d1=$(ticks $(pg_tree))
    requests=$(awk '/requests in/ {print $1}' "$WORK/$backend-$kind.txt")
    rps=$(awk '/Requests\/sec/ {print $2}' "$WORK/$backend-$kind.txt")
    p99=$(awk '$1=="99%" {print $2}' "$WORK/$backend-$kind.txt")
    server_ms=$(awk -v t=$((s1 - s0)) -v n="$requests" -v hz="$HZ" 'BEGIN {printf "%.3f", t / hz * 1000 / n}')
    db_ms=$(awk -v t=$((d1 - d0)) -v n="$requests" -v hz="$HZ" 'BEGIN {printf "%.3f", t / hz * 1000 / n}')
    [ "$backend" = sqlite ] && db_ms="(in server)"
    bad=$(grep -h "Non-2xx" "$WORK/$backend-$kind.txt" || true)
    label=$kind; [ "$kind" = rendered ] && label="article, rendered"; [ "$kind" = article ] && label="article, cached"
    [ "$kind" = front ] && label="front page, cached"; [ "$kind" = comment ] && label="comment post"
    printf '%-12s %-22s %10s %10s %16s %16s %s\n' "$backend" "$label" "$rps" "$p99" "$server_ms" "$db_ms" "$bad"
  done
  kill "$SERVER_PID"; wait "$SERVER_PID" 2>/dev/null || true; SERVER_PID=""
done
echo "wrk -t2 -c$CONNECTIONS -d${DURATION}s per line; $ARTICLES articles; $(nproc) cores shared by wrk, the server and PostgreSQL."
echo "Comment posts answer 303 (not counted as errors by wrk); 'article, rendered' is the page with ?replytocom=1, which is never cached."
