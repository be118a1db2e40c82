#!/usr/bin/env bash
# The checks too slow or too heavy for .ci/run, run by hand: each installs what it needs.
# - scripts/proxy.sh with PROXY_BROWSER=1: headless Chromium (Debian `chromium`, installed with
#   apt-get when missing) loads a page from a local static server whose script connects through
#   `wscope proxy` (about 1 minute more, most of it Chromium's start).
set -euo pipefail
cd "$(dirname "$0")/.."
echo "== proxy with headless Chromium"
PROXY_BROWSER=1 scripts/proxy.sh
