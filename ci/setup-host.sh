#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Prepares this machine for the whole test suite (`mvn verify`): what /dev/kvm runs need (ci/setup-kvm-host.sh:
# hugepages, the /dev/kvm check), Debian's chromium for the compare report test, and the Docker engine for the
# container tests (ci/setup-docker.sh, which
# installs it where it is missing). Idempotent.
set -euo pipefail
"$(dirname "$0")/setup-kvm-host.sh"
# Headless Chromium renders the compare report in CompareReportChromiumIT (and ci/report-screenshot.sh).
if ! command -v chromium >/dev/null 2>&1; then
  if [ "$(id -u)" -eq 0 ]; then
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium) >/tmp/chromium-install.log 2>&1 \
      || echo "chromium: installing failed (see /tmp/chromium-install.log); CompareReportChromiumIT will fail"
  else
    echo "chromium: missing and not root; CompareReportChromiumIT will fail"
  fi
fi
command -v chromium >/dev/null 2>&1 && echo "chromium: $(chromium --version 2>/dev/null | head -1)"

"$(dirname "$0")/setup-docker.sh"
