#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# What running on /dev/kvm needs of this machine: hugetlb pages reserved for the hugetlb backing sources, and
# a /dev/kvm this user can open. Idempotent. Without root the reservation is left alone and the hugetlb tests
# skip with the reason; nothing here installs anything.
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
