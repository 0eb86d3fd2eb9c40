#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Prepares this machine for the test suite: reserves hugetlb pages for the hugetlb backing sources, checks
# that /dev/kvm can be opened, installs Debian's chromium for the report test, and installs and starts the Docker engine for the container tests. Idempotent; needs root for the reservation (without it, the hugetlb tests skip
# with the reason).
set -euo pipefail

HUGEPAGES_2M=${HUGEPAGES_2M:-160}
HUGEPAGES_1G=${HUGEPAGES_1G:-1}
GB_POOL=/sys/kernel/mm/hugepages/hugepages-1048576kB/nr_hugepages

if [ -w /proc/sys/vm/nr_hugepages ]; then
  have=$(cat /proc/sys/vm/nr_hugepages)
  if [ "$have" -lt "$HUGEPAGES_2M" ]; then
    echo "$HUGEPAGES_2M" > /proc/sys/vm/nr_hugepages
  fi
  echo "hugepages (2 MiB): $(cat /proc/sys/vm/nr_hugepages) reserved"
else
  echo "hugepages: cannot write /proc/sys/vm/nr_hugepages (not root?); hugetlb tests will skip"
fi
if [ -w "$GB_POOL" ]; then
  if [ "$(cat "$GB_POOL")" -lt "$HUGEPAGES_1G" ]; then
    echo "$HUGEPAGES_1G" > "$GB_POOL" || true
  fi
  echo "hugepages (1 GiB): $(cat "$GB_POOL") reserved"
fi

if [ -e /dev/kvm ]; then
  if [ -r /dev/kvm ] && [ -w /dev/kvm ]; then
    echo "/dev/kvm: usable"
  else
    echo "/dev/kvm: present but not accessible to $(id -un); KVM tests will skip"
  fi
else
  echo "/dev/kvm: absent; KVM tests will skip"
fi

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
