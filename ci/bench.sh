#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# The simulator's benchmarks, whose figures go into docs/measurements.md:
#   ci/bench.sh FaultBenchmark          JMH: simulated 4K faults per second, one vCPU on one core
#   ci/bench.sh footprint [GiB]         heap bytes per guest 4K page: host, MMU (SPTEs), contents (default 128 GiB)
#   ci/bench.sh demand-paging [ARGS]    demand_paging_test on the simulator, e.g. -v 416 -b 64M (AOT cache on JDK 25+)
#   ci/bench.sh max-guest-memory [ARGS] max_guest_memory_test on the simulator, with /usr/bin/time -v (wall, peak RSS)
#   ci/bench.sh max-guest-memory-64t    64 TiB: 32 763 memslots of 2 GiB, 2M hugetlb folios, MAXPHYADDR 46
#   ci/bench.sh max-guest-memory-4p     4 PiB: 4 095 memslots of 1 TiB, 1G hugetlb folios, MAXPHYADDR 52 (5-level EPT)
#   ci/bench.sh syscalls                JMH: one system call of the kvm backend's hot path through the JNI shim
#                                       and through JNA (kvm-native's SyscallBenchmark)
# The seed series' results (docs/measurements.md, the seed series), on the model driven directly (mmu-sim's test tree):
#   ci/bench.sh seed-boot [ARGS]        (a) 8-vCPU boot-like workload: remote_tlb_flush (requests) per policy;
#                                       --aps-spin 1: the APs poll a mailbox in firmware instead of halting;
#                                       --smm 1: SMM (QEMU's second address space, SMBASE relocation SMIs);
#                                       --smis N: N SMIs broadcast after boot (needs --smm 1)
#                                       (--policy SPEC, repeatable; --seed N; --vcpus N; --ram-mib N)
#   ci/bench.sh seed-notifier [ARGS]    (c) notifier lock elision: callbacks that take mmu_lock per policy
#                                       (--policy SPEC; --seed N; --vcpus N; --outside N; --inside N)
#   ci/bench.sh seed-eager-split [ARGS] (d) eager split on enabling dirty logging: flushes, time, oracle (--seed N; --vcpus N; --mib N; --thp 0|1;
#                                       --policy SPEC: the base, default current)
#   ci/bench.sh seed-416 [POLICY...]    the seed's 416 vCPUs x 4 GiB (436 M 4K pages) per policy (default: current
#                                       pre-tdp), 20 GiB of heap on THP: wall, peak RSS, total virtual time, mmu_lock
#                                       wait share (JAR=... runs another build's jar)
#   ci/bench.sh seed-ablation           (e) each Behaviour toggled alone on legacy and current: workload (a), then
#                                       demand_paging_test $SEED_DP_ARGS (default "-v 64 -b 2M") through the jar
# The simulator against this host's /dev/kvm by random histories (docs/fidelity.md, conformance):
#   ci/bench.sh conformance [ARGS]      conformance --steps 100000 (ARGS are added: --seed S, --policy SPEC, --json P)
# The 6.13 and 6.15 changes, reproduced (docs/measurements.md, the newest MMU):
#   ci/bench.sh newest-dirty-log [ARGS] dirty_log_perf_test on the simulator per policy (6.12, 6.12 with the batched
#                                       collapsible zap, 6.13): disabling time, flushes, faults, huge pages at the end;
#                                       ARGS replace the default "-v 16 -b 512M -s anonymous_hugetlb_2mb -i 2 -e -g"
#   ci/bench.sh newest-aging [ARGS]     idle marking and aging while the vCPUs fault, per policy (6.12, 6.13, 6.15):
#                                       mmu_lock wait, vCPU time, flushes (--seed N; --vcpus N; --mib N; --policy SPEC)
set -eu
cd "$(dirname "$0")/.."
# The benchmarks run on the newest JDK the machine has (ci/java.sh; JAVA=... overrides).
. ci/java.sh
pick_java
# On JDK 25 and later the demand-paging runs use an AOT cache of the jar (JEP 483: classes loaded and linked
# ahead of time; JEP 515: method profiles, so C2 compiles the hot path without first profiling it in the
# interpreter and C1), trained by one run of the workload below the first time or whenever the jar is newer.
# Same results either way; AOT=0 runs without it.
java_feature() {
    "$JAVA" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java.specification.version = //p'
}
aot_option() {
    [ "${AOT:-1}" = 1 ] || return 0
    [ "$(java_feature)" -ge 25 ] 2>/dev/null || return 0
    cache=selftests/target/selftests.aot
    if [ ! -f "$cache" ] || [ selftests/target/selftests.jar -nt "$cache" ]; then
        echo "bench.sh: training the AOT cache $cache (demand_paging_test -v 8 -b 256M)" >&2
        if ! "$JAVA" -Xmx4g -XX:AOTCacheOutput="$cache" -jar selftests/target/selftests.jar demand_paging_test \
                --backend sim -v 8 -b 256M >/dev/null 2>&1; then
            echo "bench.sh: could not create the AOT cache; running without it" >&2
            rm -f "$cache"
            return 0
        fi
    fi
    echo "-XX:AOTCache=$cache"
}
what=${1:-FaultBenchmark}
[ $# -gt 0 ] && shift
case "$what" in
demand-paging)
    [ -f selftests/target/selftests.jar ] || mvn -B -q -DskipTests package
    # shellcheck disable=SC2046
    exec "$JAVA" -Xmx16g $(aot_option) -jar selftests/target/selftests.jar demand_paging_test --backend sim "$@"
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
seed-416)
    [ -n "${JAR:-}" ] || [ -f selftests/target/selftests.jar ] || mvn -B -q -DskipTests package
    [ $# -gt 0 ] || set -- current pre-tdp
    out=$(mktemp -d)
    trap 'rm -rf "$out"' EXIT
    # The model's tables fill a 15 GB heap that 416 vCPUs touch in turn, so the heap goes on transparent huge
    # pages: 0.76 of the wall time at 416 x 128M and 0.77 at 416 x 4G (fewer host TLB misses, presumably: this
    # host has no hardware counters to show it), no gain on small heaps. Needs THP "madvise" or "always";
    # elsewhere the JVM warns.
    jar=${JAR:-selftests/target/selftests.jar}
    for policy in "$@"; do
        # One vCPU's pass over its 4 GiB takes minutes of wall time among 416: raise the KVM_RUN watchdog.
        /usr/bin/time -f '%e s wall, %M KB peak RSS' "$JAVA" -Xmx20g -XX:+UseTransparentHugePages -jar "$jar" demand_paging_test \
            --backend sim -v 416 -b 4G --policy "$policy" --run-timeout 7200 --json "$out/$policy.json" >/dev/null
        python3 - "$out/$policy.json" "$policy" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
t = d["timings"]["total_guest_execution_ns"]
r = d["backend_report"]
vcpus = d["options"]["vcpus"]
print(f"{sys.argv[2]}: total guest execution time {t / 1e6:.1f} ms (virtual), mmu_lock waits {r['mmu_lock_wait_ns'] / 1e9:.1f} s"
      f" over {vcpus} vCPUs: {100 * r['mmu_lock_wait_ns'] / (vcpus * t):.1f}% of vCPU time;"
      f" {r['mmu_lock_contended']} of {r['mmu_lock_acquisitions']} acquisitions contended, {r['scheduler_handoffs']} handoffs")
PY
    done
    exit 0
    ;;
syscalls)
    # The kvm backend's JNI shim against JNA; the JVM flags are the benchmark's own (@Fork).
    mvn -B -q -pl kvm-native test-compile dependency:build-classpath -Dmdep.outputFile=target/bench.classpath -Dmdep.includeScope=test >/dev/null
    exec "$JAVA" -cp "kvm-native/target/test-classes:kvm-native/target/classes:$(cat kvm-native/target/bench.classpath)" \
        org.openjdk.jmh.Main SyscallBenchmark "$@"
    ;;
conformance)
    [ -f selftests/target/selftests.jar ] || mvn -B -q -DskipTests package
    exec "$JAVA" -jar selftests/target/selftests.jar conformance --steps 100000 "$@"
    ;;
newest-dirty-log)
    [ -f selftests/target/selftests.jar ] || mvn -B -q -DskipTests package
    args=${*:--v 16 -b 512M -s anonymous_hugetlb_2mb -i 2 -e -g}
    out=$(mktemp -d)
    trap 'rm -rf "$out"' EXIT
    num() { grep -o "\"$1\" : [0-9]*" "$out/r.json" | grep -o '[0-9]*$'; }
    echo "# newest-dirty-log: dirty_log_perf_test $args (virtual times; the runs are the same up to the disable, so the"
    echo "# differences in flushes and faults are the disable's and what followed it)"
    echo "| policy | disabling dirty logging | remote_tlb_flush_requests (run) | pf_taken (run) | pages_2m at the end |"
    echo "|---|---|---|---|---|"
    for p in 6.12 6.12,+batch_collapsible_zap_flush 6.13; do
        # shellcheck disable=SC2086
        "$JAVA" -Xmx4g -jar selftests/target/selftests.jar dirty_log_perf_test --backend sim $args --oracle off --policy "$p" \
            --json "$out/r.json" >"$out/log" 2>&1 || { cat "$out/log" >&2; exit 1; }
        echo "| \`$p\` | $(num disable_dirty_logging_ns) ns | $(num remote_tlb_flush_requests) | $(num pf_taken) | $(num pages_2m) |"
    done
    exit 0
    ;;
seed-boot|seed-notifier|seed-eager-split|seed-ablation|newest-aging)
    # The seed benchmarks use nothing but mmu-sim's own classes.
    mvn -B -q -pl mmu-sim test-compile
    cp="mmu-sim/target/test-classes:mmu-sim/target/classes"
    case "$what" in
    seed-boot) exec "$JAVA" -cp "$cp" dev.kvmharness.mmu.bench.BootWorkload "$@" ;;
    seed-notifier) exec "$JAVA" -cp "$cp" dev.kvmharness.mmu.bench.NotifierElisionBench "$@" ;;
    seed-eager-split) exec "$JAVA" -cp "$cp" dev.kvmharness.mmu.bench.EagerSplitBench "$@" ;;
    newest-aging) exec "$JAVA" -cp "$cp" dev.kvmharness.mmu.bench.AgingContentionBench "$@" ;;
    esac
    "$JAVA" -cp "$cp" dev.kvmharness.mmu.bench.SeedAblation "$@"
    [ -f selftests/target/selftests.jar ] || mvn -B -q -DskipTests package
    dp_args=${SEED_DP_ARGS:--v 64 -b 2M}
    out=$(mktemp -d)
    trap 'rm -rf "$out"' EXIT
    # One run per policy; total guest execution time and the remote flush stats from each run's --json.
    dp() {
        # shellcheck disable=SC2086
        "$JAVA" -Xmx4g -jar selftests/target/selftests.jar demand_paging_test --backend sim $dp_args --policy "$1" --json "$out/r.json" >/dev/null
        ns=$(grep -o '"total_guest_execution_ns" : [0-9]*' "$out/r.json" | grep -o '[0-9]*$')
        fl=$(grep -o '"remote_tlb_flush" : [0-9]*' "$out/r.json" | grep -o '[0-9]*$')
        rq=$(grep -o '"remote_tlb_flush_requests" : [0-9]*' "$out/r.json" | grep -o '[0-9]*$')
        echo "$fl ($rq) | $ns"
    }
    echo
    echo "# seed-ablation, workload (b): demand_paging_test $dp_args: remote_tlb_flush (requests) | total guest execution time (ns)"
    echo "# base: legacy $(dp legacy); current $(dp current)"
    echo "| behaviour | on \`legacy\` | flushes (requests) | time (ns) | on \`current\` | flushes (requests) | time (ns) |"
    echo "|---|---|---|---|---|---|---|"
    bfile=$(mktemp)
    tr 'A-Z' 'a-z' < mmu-sim/src/main/java/dev/kvmharness/mmu/policy/Behaviour.java > "$bfile"
    for b in $(grep -oE '^    [a-z_]+\((true|false|")' "$bfile" | sed 's/(.*//' | tr -d ' '); do
        lp="legacy,+$b"; ls="+"
        [ "$b" = notifier_lock_elision ] || [ "$b" = faults_under_read_lock ] && { lp="legacy,-$b"; ls="−"; }
        cp_="current,-$b"; cs="−"
        # behaviours 6.12 lacks (the async root zapper it dropped, the ones merged after it) are switched on
        if [ "$b" = async_zap_invalidated_roots ] || grep -q "^    ${b}(\"" "$bfile"; then cp_="current,+$b"; cs="+"; fi
        echo "| \`$b\` | $ls | $(dp "$lp") | $cs | $(dp "$cp_") |"
    done
    exit 0
    ;;
esac
mvn -B -q -pl mmu-sim test-compile dependency:build-classpath -Dmdep.outputFile=target/bench.classpath -Dmdep.includeScope=test >/dev/null
cp="mmu-sim/target/test-classes:mmu-sim/target/classes:$(cat mmu-sim/target/bench.classpath)"
case "$what" in
footprint) exec "$JAVA" -Xms20g -Xmx20g -XX:+AlwaysPreTouch -cp "$cp" dev.kvmharness.mmu.bench.MmuFootprint "$@" ;;
*) exec "$JAVA" -cp "$cp" org.openjdk.jmh.Main "$what" "$@" ;;
esac
