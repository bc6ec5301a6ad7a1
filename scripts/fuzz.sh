#!/usr/bin/env bash
# Fuzzes every parser that takes outside input, each for SECONDS (default 60),
# with libFuzzer through cargo-fuzz (installed here if missing).
#
#   scripts/fuzz.sh [SECONDS] [TARGET...]
#
# Targets (fuzz/fuzz_targets/): route (public addresses), comment_form (the
# article's form body), akismet_body (the API's form body, to the filter's
# decision), article_source (front matter and Markdown), comment_render
# (comment text to HTML, author fields), client_ip (X-Forwarded-For),
# spam_text (the filter's normaliser and URL scanner), wxr (WordPress exports), wp_content
# (WordPress post content to the page: nothing executable survives), disqus (Disqus exports).
#
# Each run starts from the committed seeds in fuzz/corpus/TARGET and writes
# what it discovers to a scratch folder, so the tree stays clean; a crash
# leaves its input in fuzz/artifacts/TARGET and fails the script.
# With FUZZ_MERGE=1 the inputs found are merged, minimised, into the seeds.
# The code is safe Rust, so the fuzzers look for panics (overflow checks on),
# endless loops and runaway memory rather than memory errors: no sanitizer.
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_EACH="${1:-60}"
shift || true

# cargo-fuzz needs a nightly compiler; this machine's nightly if it has one,
# else the stable compiler allowed nightly flags.
if rustup toolchain list 2>/dev/null | grep -q '^nightly'; then
  TOOLCHAIN=(+nightly)
else
  TOOLCHAIN=()
  export RUSTC_BOOTSTRAP=1
fi
command -v cargo-fuzz >/dev/null 2>&1 || cargo install --locked --quiet cargo-fuzz

ALL=(route comment_form akismet_body article_source comment_render client_ip spam_text wxr wp_content disqus)
TARGETS=("${@:-${ALL[@]}}")
SCRATCH=$(mktemp -d)
trap 'rm -rf "$SCRATCH"' EXIT
FUZZ=(cargo "${TOOLCHAIN[@]}" fuzz)
"${FUZZ[@]}" build --sanitizer none --debug-assertions

failed=()
for target in "${TARGETS[@]}"; do
  mkdir -p "fuzz/corpus/$target" "$SCRATCH/$target"
  echo "== $target: ${SECONDS_EACH}s"
  if ! "${FUZZ[@]}" run --sanitizer none --debug-assertions "$target" "$SCRATCH/$target" "fuzz/corpus/$target" -- \
    -max_total_time="$SECONDS_EACH" -timeout=10 -rss_limit_mb=2048 -max_len=65536 -print_final_stats=1 \
    2>"$SCRATCH/$target.log"; then
    tail -n 40 "$SCRATCH/$target.log"
    failed+=("$target")
    continue
  fi
  grep -E "^stat::number_of_executed_units|^stat::new_units_added" "$SCRATCH/$target.log" | tr '\n' ' '
  echo
  if [ "${FUZZ_MERGE:-0}" = 1 ]; then
    "${FUZZ[@]}" run --sanitizer none --debug-assertions "$target" "fuzz/corpus/$target" "$SCRATCH/$target" -- \
      -merge=1 2>/dev/null
  fi
done
if ((${#failed[@]})); then
  echo "fuzzing found problems in: ${failed[*]} (inputs in fuzz/artifacts/)" >&2
  exit 1
fi
echo "fuzzing: no crash in ${#TARGETS[@]} targets"
