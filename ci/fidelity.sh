#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# This host's /dev/kvm against the simulator in one step: compare on every port, a short calibrate and
# conformance, as one directory with an index.html (see ci/fidelity.py). Usage: ci/fidelity.sh [OUT_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
[ -f selftests/target/selftests.jar ] || mvn -B -q -DskipTests package
exec python3 ci/fidelity.py "$@"
