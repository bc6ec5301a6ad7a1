#!/usr/bin/env bash
# Import speed: `broadsheet import wxr` on a synthetic WordPress export of a
# newsroom's archive (10,000 posts and 100,000 threaded comments by default,
# written by scripts/wxr-corpus.py), into a fresh SQLite site, then the same
# file again (which must change nothing).
#
#   scripts/bench-import.sh [posts] [comments]
#
# Prints the time, items a second and peak memory of each run, and whether
# the goal is met: under 20 s and under 200 MB for 10,000 posts and 100,000
# comments. WordPress's importer is not run here; its rate on the theme unit
# test file (PRODUCT.md: 2.8 s for 58 posts, 21 pages, 33 comments and 181
# terms) is quoted for the ratio.
set -euo pipefail
cd "$(dirname "$0")/.."
POSTS="${1:-10000}"
COMMENTS="${2:-100000}"

command -v python3 >/dev/null || { apt-get update -qq && apt-get install -y -qq python3; }
[ -x /usr/bin/time ] || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq time; }
cargo build --release --quiet
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

python3 scripts/wxr-corpus.py "$WORK/export.xml" "$POSTS" "$COMMENTS"
echo "export: $POSTS posts, $COMMENTS comments, $(du -h "$WORK/export.xml" | cut -f1)"

run() { # label -> "seconds peak_kb"
  /usr/bin/time -f "%e %M" -o "$WORK/time" \
    ./target/release/broadsheet --data-dir "$WORK/data" import wxr "$WORK/export.xml" >"$WORK/$1.out"
  cat "$WORK/time"
}
read -r FIRST_S FIRST_KB < <(run first)
read -r AGAIN_S AGAIN_KB < <(run again)
grep -q "Nothing changed" "$WORK/again.out" || { echo "the second import changed something:" >&2; cat "$WORK/again.out" >&2; exit 1; }
grep -E "^  (posts|comments) " "$WORK/first.out"

ITEMS=$((POSTS + COMMENTS))
WORDPRESS_RATE=$(python3 -c "print((58 + 21 + 33 + 181) / 2.8)")
python3 - "$ITEMS" "$FIRST_S" "$FIRST_KB" "$AGAIN_S" "$AGAIN_KB" "$WORDPRESS_RATE" "$POSTS" "$COMMENTS" <<'PY'
import sys
items, first_s, first_kb, again_s, again_kb, wp_rate, posts, comments = sys.argv[1:]
items, first_s, again_s, wp_rate = int(items), float(first_s), float(again_s), float(wp_rate)
first_mb, again_mb = int(first_kb) / 1024, int(again_kb) / 1024
rate = items / first_s
print(f"first import:  {first_s:6.2f} s  {rate:9,.0f} posts+comments/s  peak {first_mb:5.0f} MB")
print(f"same file again: {again_s:4.2f} s  {items / again_s:9,.0f} posts+comments/s  peak {again_mb:5.0f} MB (nothing changed)")
print(f"ratio to WordPress's importer (PRODUCT.md, {wp_rate:.0f} items/s): {rate / wp_rate:,.0f}x")
if int(posts) == 10000 and int(comments) == 100000:
    ok = first_s < 20 and first_mb < 200
    print(f"goal (under 20 s and 200 MB): {'met' if ok else 'NOT met'}")
PY
