#!/usr/bin/env bash
# Search throughput: Broadsheet's /search/{words}/ over a newsroom archive
# (10,000 articles of about 800 words by default, see scripts/search-corpus.py),
# with wrk at 64 connections, beside nginx serving one results page as a
# static file, in one run.
#
#   scripts/bench-search.sh [seconds] [connections] [articles] [words]
#
# Two measures:
# - "every search different": each request a search never asked before, so
#   none comes from the page cache (the search engine's own speed);
# - "one word, again and again", as WordPress was measured (PRODUCT.md): a
#   word in about 2.9 % of the articles; after the first, from the cache.
# Prints requests/s and latency percentiles for each, the ratio to nginx, and
# whether the goal (5,000 searches/s with p99 under 10 ms) is met.
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION="${1:-15}"
CONNECTIONS="${2:-64}"
ARTICLES="${3:-10000}"
WORDS="${4:-800}"
PORT_OURS=18082
PORT_NGINX=18083

# shellcheck source=scripts/lib/bench.sh
. scripts/lib/bench.sh
bench_prepare nginx wrk curl python3

python3 scripts/search-corpus.py "$WORK/corpus" "$ARTICLES" "$WORDS"
QUERY_COUNT=$(wc -l <"$WORK/corpus/queries.txt")
WORDPRESS_WORD=$(cat "$WORK/corpus/wordpress-word.txt")
START=$(date +%s)
find "$WORK/corpus/articles" -name '*.md' | sort | xargs -n 1000 \
  ./target/release/broadsheet --data-dir "$WORK/data" publish >/dev/null
echo "published $ARTICLES articles in $(($(date +%s) - START)) s; database $(du -h "$WORK/data/broadsheet.db" | cut -f1)"

./target/release/broadsheet --data-dir "$WORK/data" --addr "127.0.0.1:$PORT_OURS" serve >"$WORK/broadsheet.log" 2>&1 &
OURS_PID=$!
for _ in $(seq 1 600); do curl -fs "http://127.0.0.1:$PORT_OURS/healthz" >/dev/null 2>&1 && break; sleep 0.1; done

RESULTS="/search/$WORDPRESS_WORD/"
mkdir -p "$WORK/www$RESULTS"
curl -fs "http://127.0.0.1:$PORT_OURS$RESULTS" -o "$WORK/www${RESULTS}index.html"
FOUND=$(grep -o 'class="archive-page">[0-9]* articles' "$WORK/www${RESULTS}index.html" | grep -o '[0-9]* articles' || true)
start_nginx "$WORK" "$PORT_NGINX"
cmp <(curl -fs "http://127.0.0.1:$PORT_NGINX$RESULTS") <(curl -fs "http://127.0.0.1:$PORT_OURS$RESULTS") \
  || { echo "the two servers do not serve the same bytes for $RESULTS" >&2; exit 1; }

run() { # name url [wrk args…] -> "requests/s p50 p99 requests"
  local name=$1 url=$2
  shift 2
  wrk -t2 -c"$CONNECTIONS" -d"${DURATION}s" --latency "$@" "$url" >"$WORK/$name.wrk"
  if grep -q "Non-2xx" "$WORK/$name.wrk"; then
    echo "$name answered errors:" >&2
    cat "$WORK/$name.wrk" >&2
    exit 1
  fi
  echo "$(awk '/Requests\/sec/ {print $2}' "$WORK/$name.wrk") $(awk '$1=="50%" {print $2}' "$WORK/$name.wrk")" \
    "$(awk '$1=="99%" {print $2}' "$WORK/$name.wrk") $(awk '/requests in/ {print $1}' "$WORK/$name.wrk")"
}
ms() { # a wrk latency (850.00us, 3.21ms, 1.02s) in milliseconds
  awk -v v="$1" 'BEGIN { n = v + 0; if (v ~ /us$/) n /= 1000; else if (v ~ /[0-9]s$/ && v !~ /ms$/) n *= 1000; print n }'
}
report() { # label rps p50 p99
  printf '%-34s %10s req/s   p50 %9s   p99 %9s\n' "$1" "$2" "$3" "$4"
}

echo "$ARTICLES articles of $WORDS words; wrk -t2 -c$CONNECTIONS -d${DURATION}s; $(nproc) cores"
wrk -t2 -c"$CONNECTIONS" -d2s "http://127.0.0.1:$PORT_NGINX$RESULTS" >/dev/null # warm up
read -r NGINX_RPS NGINX_P50 NGINX_P99 _ < <(run nginx "http://127.0.0.1:$PORT_NGINX$RESULTS")
report "nginx, one results page" "$NGINX_RPS" "$NGINX_P50" "$NGINX_P99"

# The queries are canonical search addresses (200, not a redirect): tried on
# the file's last lines, which the run never reaches.
for query in $(tail -n 20 "$WORK/corpus/queries.txt"); do
  status=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT_OURS/search/$query/")
  [ "$status" = 200 ] || { echo "/search/$query/ answered $status, not 200" >&2; exit 1; }
done

# Every search different: the threads share out the query file, and a run
# must ask fewer searches than it holds, or some would repeat.
read -r DIFF_RPS DIFF_P50 DIFF_P99 DIFF_N < <(QUERIES="$WORK/corpus/queries.txt" THREADS=2 \
  run different "http://127.0.0.1:$PORT_OURS" -s scripts/search-queries.lua)
if [ "$DIFF_N" -ge "$QUERY_COUNT" ]; then
  echo "the run asked $DIFF_N searches but the file holds $QUERY_COUNT: some repeated" >&2
  exit 1
fi
report "broadsheet, every search different" "$DIFF_RPS" "$DIFF_P50" "$DIFF_P99"
echo "  ($DIFF_N searches, none asked twice)"

read -r SAME_RPS SAME_P50 SAME_P99 _ < <(run same "http://127.0.0.1:$PORT_OURS$RESULTS")
report "broadsheet, '$WORDPRESS_WORD' again and again" "$SAME_RPS" "$SAME_P50" "$SAME_P99"
echo "  ('$WORDPRESS_WORD': ${FOUND:-its results})"

awk -v d="$DIFF_RPS" -v s="$SAME_RPS" -v n="$NGINX_RPS" \
  'BEGIN { printf "ratio to nginx: every search different %.2f, one word again and again %.2f\n", d / n, s / n }'
for measure in "every search different:$DIFF_RPS:$DIFF_P99" "one word again and again:$SAME_RPS:$SAME_P99"; do
  IFS=: read -r label rps p99 <<<"$measure"
  awk -v label="$label" -v r="$rps" -v p="$(ms "$p99")" 'BEGIN {
    printf "goal (5,000 searches/s, p99 < 10 ms), %s: %s\n", label, (r >= 5000 && p < 10) ? "met" : "NOT met" }'
done
