#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# The simulator's benchmarks, whose figures go into the README:
#   ci/bench.sh FaultBenchmark          JMH: simulated 4K faults per second, one vCPU on one core
#   ci/bench.sh footprint [GiB]         MMU heap bytes per mapped 4K page (default 128 GiB mapped)
#   ci/bench.sh demand-paging [ARGS]    demand_paging_test on the simulator, e.g. -v 416 -b 64M
set -eu
cd "$(dirname "$0")/.."
what=${1:-FaultBenchmark}
[ $# -gt 0 ] && shift
case "$what" in
demand-paging)
    [ -f selftests/target/selftests.jar ] || mvn -B -q -DskipTests package
    exec java -Xmx16g -jar selftests/target/selftests.jar demand_paging_test --backend sim "$@"
    ;;
esac
mvn -B -q -pl mmu-sim test-compile dependency:build-classpath -Dmdep.outputFile=target/bench.classpath -Dmdep.includeScope=test >/dev/null
cp="mmu-sim/target/test-classes:mmu-sim/target/classes:$(cat mmu-sim/target/bench.classpath)"
case "$what" in
footprint) exec java -Xms20g -Xmx20g -XX:+AlwaysPreTouch -cp "$cp" dev.kvmharness.mmu.bench.MmuFootprint "$@" ;;
*) exec java -cp "$cp" org.openjdk.jmh.Main "$what" "$@" ;;
esac
