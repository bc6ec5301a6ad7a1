#!/usr/bin/env bash
# HTTP throughput: Broadsheet's cached article page and site feed (/feed/)
# against nginx serving the same bytes from static files, side by side in one
# run, with wrk.
#
#   [ROUNDS=3] scripts/bench-http.sh [seconds] [connections] [comments]
#
# With a number of comments, the article first gets that many approved
# comments (all on one comment page), posted through its form.
#
# Both servers log every request to a file, use both cores and keep
# connections alive. Each page is measured in ROUNDS rounds, the two servers
# one after the other, nginx first in odd rounds and second in even ones:
# this machine's speed drifts by a fifth within minutes, and a ratio from
# one pair of runs moved with it. Prints requests/s and latency percentiles
# for each run, each round's ratio ours / nginx, and their median.
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION="${1:-15}"
CONNECTIONS="${2:-64}"
COMMENTS="${3:-0}"
ROUNDS="${ROUNDS:-3}"
PORT_OURS=18080
PORT_NGINX=18081

# shellcheck source=scripts/lib/bench.sh
. scripts/lib/bench.sh
bench_prepare nginx wrk curl

./target/release/broadsheet --data-dir "$WORK/data" --addr "127.0.0.1:$PORT_OURS" serve >"$WORK/broadsheet.log" 2>&1 &
OURS_PID=$!
for _ in $(seq 1 100); do curl -fs "http://127.0.0.1:$PORT_OURS/healthz" >/dev/null 2>&1 && break; sleep 0.1; done

ARTICLE=$(curl -fs "http://127.0.0.1:$PORT_OURS/" | grep -o 'class="lead-headline"><a href="[^"]*"' | sed 's/.*href="//; s/"$//')
if [ "$COMMENTS" -gt 0 ]; then
  for setting in "flood_seconds 0" "hold_first_time false" "min_seconds_to_submit 0" "per_page $(( COMMENTS < 5 ? 5 : (COMMENTS > 500 ? 500 : COMMENTS) ))"; do
    # shellcheck disable=SC2086
    ./target/release/broadsheet --data-dir "$WORK/data" settings set $setting
  done
  TOKEN=$(curl -fs "http://127.0.0.1:$PORT_OURS$ARTICLE" | grep -o 'name="token" value="[^"]*"' | sed 's/.*value="//; s/"$//')
  sleep 15 # a reader takes a while to write
  for n in $(seq 1 "$COMMENTS"); do
    curl -fs -o /dev/null -A "Mozilla/5.0 (X11; Linux x86_64) Chrome/156.0" "http://127.0.0.1:$PORT_OURS$ARTICLE" \
      --data-urlencode "token=$TOKEN" --data-urlencode "author=Reader $n" --data-urlencode "email=reader$n@example.org" \
      --data-urlencode "comment=Comment $n: the late ferry would let island families get home after evening shifts."
  done
  SHOWN=$(curl -fs "http://127.0.0.1:$PORT_OURS$ARTICLE" | grep -c 'class="comment-body"' || true)
  echo "the article shows $SHOWN comments"
fi
for page in "$ARTICLE" /feed/; do
  mkdir -p "$WORK/www$page"
  curl -fs "http://127.0.0.1:$PORT_OURS$page" -o "$WORK/www${page}index.html"
done

start_nginx "$WORK" "$PORT_NGINX" \
  'location /feed/ { types { } default_type "application/rss+xml; charset=utf-8"; add_header Cache-Control "public, max-age=60"; }'
for page in "$ARTICLE" /feed/; do
  cmp <(curl -fs "http://127.0.0.1:$PORT_NGINX$page") <(curl -fs "http://127.0.0.1:$PORT_OURS$page") \
    || { echo "the two servers do not serve the same bytes for $page" >&2; exit 1; }
done

run() { # name url -> "requests/s p50 p99"
  wrk -t2 -c"$CONNECTIONS" -d2s "$2" >/dev/null # warm up
  wrk -t2 -c"$CONNECTIONS" -d"${DURATION}s" --latency "$2" >"$WORK/$1.wrk"
  local rps p50 p99
  rps=$(awk '/Requests\/sec/ {print $2}' "$WORK/$1.wrk")
  p50=$(awk '$1=="50%" {print $2}' "$WORK/$1.wrk")
  p99=$(awk '$1=="99%" {print $2}' "$WORK/$1.wrk")
  if grep -q "Non-2xx" "$WORK/$1.wrk"; then echo "$1 answered errors:" >&2; cat "$WORK/$1.wrk" >&2; exit 1; fi
  echo "$rps $p50 $p99"
}

for page in "$ARTICLE" /feed/; do
  BYTES=$(wc -c <"$WORK/www${page}index.html")
  echo "$page ($BYTES bytes), wrk -t2 -c$CONNECTIONS -d${DURATION}s, $(nproc) cores, $ROUNDS rounds"
  RATIOS=()
  for round in $(seq 1 "$ROUNDS"); do
    if [ $((round % 2)) -eq 1 ]; then order="nginx broadsheet"; else order="broadsheet nginx"; fi
    for server in $order; do
      if [ "$server" = nginx ]; then
        read -r NGINX_RPS NGINX_P50 NGINX_P99 < <(run nginx "http://127.0.0.1:$PORT_NGINX$page")
      else
        read -r OURS_RPS OURS_P50 OURS_P99 < <(run broadsheet "http://127.0.0.1:$PORT_OURS$page")
      fi
    done
    printf 'round %s: %-12s %12s req/s   p50 %8s   p99 %8s\n' "$round" nginx "$NGINX_RPS" "$NGINX_P50" "$NGINX_P99"
    printf 'round %s: %-12s %12s req/s   p50 %8s   p99 %8s\n' "$round" broadsheet "$OURS_RPS" "$OURS_P50" "$OURS_P99"
    RATIOS+=("$(awk -v a="$OURS_RPS" -v b="$NGINX_RPS" 'BEGIN { printf "%.2f", a / b }')")
  done
  MEDIAN=$(printf '%s\n' "${RATIOS[@]}" | sort -n | awk '{ r[NR] = $1 } END { print (NR % 2) ? r[(NR + 1) / 2] : (r[NR / 2] + r[NR / 2 + 1]) / 2 }')
  echo "ratio broadsheet/nginx, each round: ${RATIOS[*]}"
  echo "ratio broadsheet/nginx: $MEDIAN (median)"
  echo
done
