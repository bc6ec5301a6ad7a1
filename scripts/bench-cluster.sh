#!/usr/bin/env bash
# A news spike on a cluster: nginx as the load balancer in front of two
# Broadsheet servers on one PostgreSQL, against one server on SQLite, in the
# same run, with the same mix from wrk: 90 % article reads over ARTICLES
# articles (Zipf: a few stories take most readers), 9 % front page, 1 %
# comment posts, each request with a browser's headers (it takes brotli). A
# third of the way through the cluster's run one server is killed with
# SIGKILL: nginx sends its requests to the other, and afterwards the script
# counts the comments in the database against those acknowledged (303) to
# wrk. Before each setup's run, 3 s of reading every article and the front
# page warm its page cache, as a server that was up before the spike has it
# (WARM=0 skips this, to see a cold start). Prints requests/s, p99, errors
# and each process's peak memory.
#
#   scripts/bench-cluster.sh [seconds] [connections] [articles]
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION="${1:-30}"
CONNECTIONS="${2:-64}"
ARTICLES="${3:-1000}"

for tool in wrk nginx curl; do
  if ! command -v "$tool" >/dev/null 2>&1 && [ ! -x "/usr/sbin/$tool" ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends wrk nginx curl
    break
  fi
done
dpkg -s postgresql >/dev/null 2>&1 || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends postgresql; }
cargo build --release --quiet
BIN=$(realpath target/release/broadsheet)
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
WORK=$(mktemp -d)
chmod 755 "$WORK"
PIDS=()
PG_BIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
as_postgres() { if [ "$(id -u)" = 0 ]; then su postgres -s /bin/sh -c "$1"; else sh -c "$1"; fi; }
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  [ -f "$WORK/nginx.pid" ] && kill "$(cat "$WORK/nginx.pid")" 2>/dev/null || true
  [ -d "$WORK/pg" ] && as_postgres "'$PG_BIN/pg_ctl' -D '$WORK/pg' -m fast stop" >/dev/null 2>&1 || true
  wait 2>/dev/null || true
  [ -n "${KEEP:-}" ] || rm -rf "$WORK"
}
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
wait_up() { for _ in $(seq 1 300); do curl -fs "$1/healthz" >/dev/null 2>&1 && return 0; sleep 0.1; done; echo "$1 did not start" >&2; exit 1; }
peak_kib() { awk '/VmHWM/ {print $2}' "/proc/$1/status" 2>/dev/null || echo "?"; }

# A throwaway PostgreSQL server.
PG_PORT=$(free_port)
[ "$(id -u)" = 0 ] && chown postgres: "$WORK"
as_postgres "'$PG_BIN/initdb' -D '$WORK/pg' -A trust -U postgres >/dev/null"
as_postgres "'$PG_BIN/pg_ctl' -D '$WORK/pg' -l '$WORK/pg.log' -w -o \"-p $PG_PORT -k '$WORK' -c listen_addresses=127.0.0.1 -c max_connections=200\" start >/dev/null"
chmod 755 "$WORK"
PG_URL="postgres://postgres@127.0.0.1:$PG_PORT/postgres"

# The same articles on both databases, and discussion settings for a spike
# from one address: no flood limit, no hold for first comments.
python3 scripts/search-corpus.py "$WORK/corpus" "$ARTICLES" 300 10 >/dev/null
SQLITE=(--data-dir "$WORK/sqlite")
CLUSTER=(--data-dir "$WORK/a" --database-url "$PG_URL")
for db in SQLITE CLUSTER; do
  declare -n args=$db
  find "$WORK/corpus" -name '*.md' -print0 | xargs -0 "$BIN" "${args[@]}" publish >/dev/null
  for setting in "flood_seconds 0" "hold_first_time false" "min_seconds_to_submit 0" "max_links 10"; do
    # shellcheck disable=SC2086
    "$BIN" "${args[@]}" settings set $setting >/dev/null
  done
done
echo "published $ARTICLES articles on SQLite and on PostgreSQL"

# The mix, for wrk: Zipf over the articles (s = 1), the front page, and
# comments on the ten most read articles (a form token fetched from each).
mix() { # mix BASE_URL OUT.lua
  local base=$1 paths=() tokens=()
  mapfile -t sitemaps < <(curl -fs "$base/sitemap.xml" | grep -o '<loc>[^<]*</loc>' | sed 's/<[^>]*>//g')
  for map in "${sitemaps[@]}"; do
    case "$map" in *sitemap-pages*|*sitemap-categories*|*sitemap-tags*|*sitemap-authors*) continue ;; esac
    mapfile -t -O "${#paths[@]}" paths < <(curl -fs "$map" | grep -o '<loc>[^<]*</loc>' | sed 's/<[^>]*>//g; s#^https\?://[^/]*##')
  done
  for path in "${paths[@]:0:10}"; do
    tokens+=("$(curl -fs "$base$path" | grep -o 'name="token" value="[^"]*"' | sed 's/.*value="//; s/"$//')")
  done
  {
    echo "local paths = {"; printf '  "%s",\n' "${paths[@]}"; echo "}"
    echo "local tokens = {"; printf '  "%s",\n' "${tokens[@]}"; echo "}"
    cat <<'LUA'
local cumulative, total = {}, 0
for k = 1, #paths do total = total + 1 / k; cumulative[k] = total end
local function zipf()
  local r, lo, hi = math.random() * total, 1, #paths
  while lo < hi do
    local mid = math.floor((lo + hi) / 2)
    if cumulative[mid] < r then lo = mid + 1 else hi = mid end
  end
  return lo
end
-- Readers come with browsers, which take compressed pages.
local browser, encodings = "Mozilla/5.0 (X11; Linux x86_64) Chrome/156.0", "gzip, deflate, br, zstd"
local reader = {["User-Agent"] = browser, ["Accept-Encoding"] = encodings}
local threads = {}
setup = function(thread) table.insert(threads, thread); thread:set("id", #threads) end
init = function() math.randomseed(id * 7919); posted, acked, duplicates, failed = 0, 0, 0, 0; counter = 0 end
request = function()
  local r = math.random()
  if r < 0.01 then
    counter = counter + 1
    posted = posted + 1
    local i = math.random(1, #tokens)
    local n = id .. "-" .. counter
    local body = "token=" .. tokens[i] .. "&author=Reader+" .. n .. "&email=reader" .. n .. "%40example.org"
      .. "&comment=Comment+" .. n .. "+on+this+story%3A+the+council+should+answer+the+islanders."
    return wrk.format("POST", paths[i], {["Content-Type"] = "application/x-www-form-urlencoded",
      ["User-Agent"] = browser, ["Accept-Encoding"] = encodings}, body)
  elseif r < 0.10 then
    return wrk.format("GET", "/", reader)
  end
  return wrk.format("GET", paths[zipf()], reader)
end
response = function(status)
  if status == 303 then acked = acked + 1
  elseif status == 409 then duplicates = duplicates + 1
  elseif status >= 400 then failed = failed + 1 end
end
done = function()
  local a, p, d, f = 0, 0, 0, 0
  for _, t in ipairs(threads) do
    a = a + t:get("acked"); p = p + t:get("posted"); d = d + t:get("duplicates"); f = f + t:get("failed")
  end
  io.write(string.format("comments sent %d, acknowledged %d, 409 duplicate (a retried comment already stored) %d; other answers >= 400: %d\n", p, a, d, f))
end
LUA
  } >"$2"
}

warm() { # warm MIX.lua URL: every article and the front page, read over and over for 3 s
  [ "${WARM:-1}" = 0 ] && return 0
  { sed -n '/^local paths = {/,/^}/p' "$1"
    cat <<'LUA'
local i = 0
local reader = {["User-Agent"] = "Mozilla/5.0 (X11; Linux x86_64) Chrome/156.0", ["Accept-Encoding"] = "gzip, deflate, br, zstd"}
request = function()
  i = i + 1
  if i % 10 == 0 then return wrk.format("GET", "/", reader) end
  return wrk.format("GET", paths[(i % #paths) + 1], reader)
end
LUA
  } >"$1.warm.lua"
  wrk -t2 -c"$CONNECTIONS" -d3s -s "$1.warm.lua" "$2" >/dev/null
}

report() { # report NAME WRK_OUT
  awk -v name="$1" '/Requests\/sec/ {rps=$2} $1=="99%" {p99=$2} /Socket errors/ {sock=$0}
    END {printf "%-28s %10s req/s   p99 %8s   %s\n", name, rps, p99, (sock == "" ? "no socket errors" : sock)}' "$2"
  grep -h "^comments sent" "$2"
  grep -h "Non-2xx" "$2" || true
}

# 1. One server on SQLite.
PORT=$(free_port)
"$BIN" "${SQLITE[@]}" --addr "127.0.0.1:$PORT" --base-url "http://127.0.0.1:$PORT" serve >"$WORK/sqlite.log" 2>&1 &
SQLITE_PID=$!
PIDS+=("$SQLITE_PID")
wait_up "http://127.0.0.1:$PORT"
mix "http://127.0.0.1:$PORT" "$WORK/sqlite.lua"
warm "$WORK/sqlite.lua" "http://127.0.0.1:$PORT"
wrk -t2 -c"$CONNECTIONS" -d"${DURATION}s" --latency -s "$WORK/sqlite.lua" "http://127.0.0.1:$PORT" >"$WORK/sqlite-wrk.txt"
SQLITE_PEAK=$(peak_kib "$SQLITE_PID")
kill "$SQLITE_PID"; wait "$SQLITE_PID" 2>/dev/null || true

# 2. Two servers on PostgreSQL behind nginx; B is killed a third of the way in.
A_PORT=$(free_port); B_PORT=$(free_port); LB_PORT=$(free_port)
LB="http://127.0.0.1:$LB_PORT"
for server in a b; do
  port=$A_PORT; [ "$server" = b ] && port=$B_PORT
  "$BIN" --data-dir "$WORK/$server" --database-url "$PG_URL" --addr "127.0.0.1:$port" --base-url "$LB" \
    --trusted-proxies 127.0.0.1 serve --no-demo >"$WORK/$server.log" 2>&1 &
  PIDS+=("$!")
  [ "$server" = a ] && A_PID=$! || B_PID=$!
  wait_up "http://127.0.0.1:$port"
done
cat >"$WORK/nginx.conf" <<CONF
worker_processes auto;
pid $WORK/nginx.pid;
error_log $WORK/nginx-error.log;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path $WORK/tmp; proxy_temp_path $WORK/tmp; fastcgi_temp_path $WORK/tmp;
  uwsgi_temp_path $WORK/tmp; scgi_temp_path $WORK/tmp;
  upstream broadsheet {
    server 127.0.0.1:$A_PORT max_fails=1 fail_timeout=30s;
    server 127.0.0.1:$B_PORT max_fails=1 fail_timeout=30s;
    keepalive 64;
  }
  server {
    listen 127.0.0.1:$LB_PORT;
    location / {
      proxy_pass http://broadsheet;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host \$http_host;
      proxy_set_header X-Forwarded-For \$remote_addr;
      # A server that is gone: try the other. A comment sent again is
      # caught by the duplicate check if the first had been stored.
      proxy_next_upstream error timeout http_502 http_503 non_idempotent;
      proxy_next_upstream_tries 2;
    }
  }
}
CONF
mkdir -p "$WORK/tmp"
"$NGINX" -c "$WORK/nginx.conf" -p "$WORK"
wait_up "$LB"
mix "$LB" "$WORK/cluster.lua"
warm "$WORK/cluster.lua" "$LB"
( sleep $((DURATION / 3)); peak_kib "$B_PID" >"$WORK/b-peak"; kill -9 "$B_PID" ) &
KILLER=$!
wrk -t2 -c"$CONNECTIONS" -d"${DURATION}s" --latency -s "$WORK/cluster.lua" "$LB" >"$WORK/cluster-wrk.txt"
wait "$KILLER" 2>/dev/null || true
A_PEAK=$(peak_kib "$A_PID")
NGINX_PEAK=$(for pid in $(pgrep -f "nginx.*$WORK/nginx.conf"); do peak_kib "$pid"; done | sort -n | tail -1)
sleep 1

count() { "$BIN" "$@" comments list --limit 100000000 | grep -c '^ *[0-9]' || true; }
echo
echo "news spike: wrk -t2 -c$CONNECTIONS -d${DURATION}s, $ARTICLES articles (Zipf), 90 % articles, 9 % front page, 1 % comments; $(nproc) cores; $([ "${WARM:-1}" = 0 ] && echo "cold caches" || echo "caches warmed for 3 s")"
report "one server, SQLite" "$WORK/sqlite-wrk.txt"
echo "  stored comments: $(count "${SQLITE[@]}"); peak memory: server $SQLITE_PEAK KiB"
report "two servers, PostgreSQL" "$WORK/cluster-wrk.txt"
echo "  server B killed (SIGKILL) after $((DURATION / 3)) s"
echo "  stored comments: $(count "${CLUSTER[@]}"); peak memory: server A $A_PEAK KiB, server B $(cat "$WORK/b-peak" 2>/dev/null || echo '?') KiB (before the kill), nginx worker $NGINX_PEAK KiB"
