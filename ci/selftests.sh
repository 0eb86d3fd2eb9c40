#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# The main job: build selftests.jar and run every ported selftest the way the kselftest runner does (TAP
# output, one line per test). Extra arguments go to the runner, e.g. --backend kvm. On the simulator (the
# default) it needs nothing but the build: no root, no Docker, no hugepages. With --backend kvm it first runs
# ci/setup-kvm-host.sh (hugepages where it may reserve them, the /dev/kvm check).
set -euo pipefail
cd "$(dirname "$0")/.."
backend=sim
prev=
for a in "$@"; do
  case "$a" in
    --backend=*) backend=${a#--backend=} ;;
  esac
  if [ "$prev" = --backend ]; then backend=$a; fi
  prev=$a
done
if [ "$backend" = kvm ]; then
  ci/setup-kvm-host.sh
fi
# The build's own messages (and the colour resets Maven's quiet mode still writes) go to stderr: stdout is
# the TAP stream alone, starting with its "TAP version 13" header.
mvn -B -q -Dstyle.color=never -DskipTests package >&2
# The newest JDK on the machine (ci/java.sh says why when that is below 24).
. ci/java.sh
pick_java
exec "$JAVA" -jar selftests/target/selftests.jar "$@"
