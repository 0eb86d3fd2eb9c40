#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Saves a PNG of a compare report as headless Chromium renders it (Debian's chromium, installed by
# ci/setup-host.sh): ci/report-screenshot.sh r.html [r.png] [WIDTHxHEIGHT]
set -euo pipefail
if [ $# -lt 1 ]; then
  echo "usage: $0 REPORT.html [OUT.png] [WIDTHxHEIGHT]" >&2
  exit 2
fi
html=$(realpath "$1")
out=${2:-${1%.html}.png}
size=${3:-1400x4200}
chrome=$(command -v chromium || command -v chromium-browser || true)
if [ -z "$chrome" ]; then
  echo "chromium not found: run ci/setup-host.sh" >&2
  exit 1
fi
# --no-sandbox: root has no user namespace sandbox here; the page is our own file.
"$chrome" --headless --no-sandbox --disable-gpu --hide-scrollbars --window-size="${size/x/,}" \
  --screenshot="$(realpath -m "$out")" "file://$html" >/dev/null 2>&1
echo "wrote $out"
