#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Regenerates kvm-native/src/test/resources/kernel-abi.txt (the ioctl numbers, struct sizes and offsets the
# ABI tests compare kvm-native against) from the kernel's UAPI headers, installed by build-c-selftests.sh.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
kvm_dir=$("$top/ci/build-c-selftests.sh" | tail -n 1)   # <src>/tools/testing/selftests/kvm
src=$(cd "$kvm_dir/../../../.." && pwd)
gcc -I "$src/usr/include" -o /tmp/abi_golden "$top/kvm-native/src/test/c/abi_golden.c"
/tmp/abi_golden > "$top/kvm-native/src/test/resources/kernel-abi.txt"
gcc -I "$src/usr/include" -o /tmp/errno_golden "$top/kvm-native/src/test/c/errno_golden.c"
/tmp/errno_golden > "$top/kvm-native/src/test/resources/kernel-errno.txt"
echo "wrote kvm-native/src/test/resources/kernel-abi.txt and kernel-errno.txt"
