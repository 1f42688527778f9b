#!/usr/bin/env bash
# What tests/demo/test_browser.py needs: Debian's Chromium (Playwright drives it; no browser download at
# run time) and the demo extra plus Playwright's Python package. Idempotent and quiet; run it with the
# virtual environment active. Exits 0 when Chromium cannot be installed: the test then skips, saying why.
set -euo pipefail
cd "$(dirname "$0")/.."

python -m pip install -q -e ".[demo]" "playwright>=1.45"

if ! command -v chromium >/dev/null 2>&1; then
  if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
    export DEBIAN_FRONTEND=noninteractive
    { apt-get update -qq && apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core; } \
      >/dev/null 2>&1 || echo "browser_deps: apt-get could not install chromium; the browser test will skip" >&2
  else
    echo "browser_deps: no chromium and no root apt-get; the browser test will skip" >&2
  fi
fi
