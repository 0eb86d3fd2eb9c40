#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# The simulator's benchmarks, whose figures go into the README:
#   ci/bench.sh FaultBenchmark          JMH: simulated 4K faults per second, one vCPU on one core
#   ci/bench.sh footprint [GiB]         MMU heap bytes per mapped 4K page (default 128 GiB mapped)
#   ci/bench.sh demand-paging [ARGS]    demand_paging_test on the simulator, e.g. -v 416 -b 64M
#   ci/bench.sh max-guest-memory [ARGS] max_guest_memory_test on the simulator, with /usr/bin/time -v (wall, peak RSS)
#   ci/bench.sh max-guest-memory-64t    64 TiB: 32 763 memslots of 2 GiB, 2M hugetlb folios, MAXPHYADDR 46
#   ci/bench.sh max-guest-memory-4p     4 PiB: 4 095 memslots of 1 TiB, 1G hugetlb folios, MAXPHYADDR 52 (5-level EPT)
set -eu
cd "$(dirname "$0")/.."
# The simulator's threads are virtual threads on one carrier on JDK 24+ (SimThreads; same results, cheaper
# handoffs between simulated threads): the benchmarks run on Temurin 25 where it is installed, else on `java`.
# JAVA=... overrides.
if [ -z "${JAVA:-}" ]; then
    JAVA=java
    [ -x /usr/lib/jvm/temurin-25-jdk-amd64/bin/java ] && JAVA=/usr/lib/jvm/temurin-25-jdk-amd64/bin/java
fi
what=${1:-FaultBenchmark}
[ $# -gt 0 ] && shift
case "$what" in
demand-paging)
    [ -f selftests/target/selftests.jar ] || mvn -B -q -DskipTests package
    exec "$JAVA" -Xmx16g -jar selftests/target/selftests.jar demand_paging_test --backend sim "$@"
    ;;
max-guest-memory|max-guest-memory-64t|max-guest-memory-4p)
    [ -f selftests/target/selftests.jar ] || mvn -B -q -DskipTests package
    case "$what" in
    max-guest-memory-64t) set -- -m 65536 -s 2 -H --maxphyaddr 46 --stride 2M "$@" ;;
    max-guest-memory-4p) set -- --maxphyaddr 52 -m 4194304 -s 1024 -H --hugepage-size 1G --stride 1G "$@" ;;
    esac
    timer=""
    [ -x /usr/bin/time ] && timer="/usr/bin/time -v"
    exec $timer "$JAVA" -Xmx16g -jar selftests/target/selftests.jar max_guest_memory_test --backend sim "$@"
    ;;
esac
mvn -B -q -pl mmu-sim test-compile dependency:build-classpath -Dmdep.outputFile=target/bench.classpath -Dmdep.includeScope=test >/dev/null
cp="mmu-sim/target/test-classes:mmu-sim/target/classes:$(cat mmu-sim/target/bench.classpath)"
case "$what" in
footprint) exec java -Xms20g -Xmx20g -XX:+AlwaysPreTouch -cp "$cp" dev.kvmharness.mmu.bench.MmuFootprint "$@" ;;
*) exec java -cp "$cp" org.openjdk.jmh.Main "$what" "$@" ;;
esac
