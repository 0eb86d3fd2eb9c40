#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Every port x {sim, kvm} x {in-process, container}, with a summary table, JSON and JUnit XML: see ci/matrix.py.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -f selftests/target/selftests.jar ] || mvn -B -q -DskipTests package
exec python3 ci/matrix.py "$@"
