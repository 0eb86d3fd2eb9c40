#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# The main job: prepare the host, build selftests.jar, and run every ported selftest the way the kselftest
# runner does (TAP output, one line per test). Extra arguments go to the runner, e.g. --backend kvm.
set -euo pipefail
cd "$(dirname "$0")/.."
ci/setup-host.sh
mvn -B -q -DskipTests package
exec java -jar selftests/target/selftests.jar "$@"
