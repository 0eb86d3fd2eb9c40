#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Compare the demand paging rate of the upstream C demand_paging_test with the
# Java port (selftests.jar, KVM backend) on this machine.
#
# For each option set, runs ROUNDS alternating rounds (C then Java on odd
# rounds, Java then C on even rounds, to spread warm-up / drift effects),
# extracts the "Overall demand paging rate:" figure (pgs/sec) from each run,
# and prints a table of medians, their Java/C ratio, and the median of the
# per-round Java/C ratios (the two runs of a round are back to back, so on a
# host whose speed drifts during a set this is the steadier figure).
#
# Run from anywhere; the Java command is run from the repository root.
#
# Environment:
#   ROUNDS       rounds per option set (default 5)
#   OPTION_SETS  ';'-separated option sets (default: one vCPU with and without
#                userfaultfd, then two vCPUs: without it, MISSING, MINOR, one uffd
#                for all memory (-a), two readers per uffd (-r 2), a reader delay (-d))
#   JAVA_OPTS    JVM options for the Java side (default: "-XX:TieredStopAtLevel=1
#                -XX:+UseSerialGC"; see the README: on 2 cores C2 compiles and G1's
#                barriers and threads compete with the vCPU and reader threads)
#   C_BIN        C demand_paging_test binary (default: built/located via
#                ci/build-c-selftests.sh)
#   JAVA_JAR     jar (default: <repo>/selftests/target/selftests.jar)
#   JAVA         java launcher (default: java)
#   JAVA_CMD     full command replacing "$JAVA -jar $JAVA_JAR demand_paging_test
#                --backend kvm" (word-split; the options are appended).  Setting
#                it skips the jar check; e.g. JAVA_CMD=/path/to/demand_paging_test
#                exercises the script with the C binary on both sides.
#   RUN_TIMEOUT  per-run timeout in seconds (default 900)
#   LOG_DIR      where each run's output is kept (default: a new mktemp -d)
#
# Exit status: 0 all runs produced a rate; 1 some run failed; 2 Java jar
# missing (build it with "mvn -pl selftests -am package" or similar first).

set -euo pipefail

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
REPO_ROOT=$(cd "$SCRIPT_DIR/.." && pwd -P)

ROUNDS=${ROUNDS:-5}
DEFAULT_SETS="-b 256M;-u MISSING -b 64M;-s shmem -u MINOR -b 64M;-v 2 -b 64M;-v 2 -u MISSING -b 64M"
DEFAULT_SETS+=";-v 2 -s shmem -u MINOR -b 64M;-v 2 -u MISSING -a -b 64M;-v 2 -u MISSING -r 2 -b 64M"
DEFAULT_SETS+=";-v 2 -u MISSING -d 100 -b 16M"
OPTION_SETS=${OPTION_SETS:-$DEFAULT_SETS}
JAVA=${JAVA:-java}
JAVA_OPTS=${JAVA_OPTS-"-XX:TieredStopAtLevel=1 -XX:+UseSerialGC"}
JAVA_JAR=${JAVA_JAR:-$REPO_ROOT/selftests/target/selftests.jar}
RUN_TIMEOUT=${RUN_TIMEOUT:-900}

log() { printf '%s\n' "$*" >&2; }

case "$ROUNDS" in
    '' | *[!0-9]* | 0) log "ROUNDS must be a positive integer (got '$ROUNDS')"; exit 1 ;;
esac

# --- Java side --------------------------------------------------------------
if [ -n "${JAVA_CMD:-}" ]; then
    read -r -a java_cmd <<<"$JAVA_CMD"
else
    if [ ! -f "$JAVA_JAR" ]; then
        log "Java port not built: $JAVA_JAR is missing."
        log "Build it first (e.g. 'mvn -q package' in $REPO_ROOT), or set JAVA_JAR / JAVA_CMD."
        exit 2
    fi
    read -r -a java_opts <<<"$JAVA_OPTS"
    java_cmd=("$JAVA" "${java_opts[@]}" -jar "$JAVA_JAR" demand_paging_test --backend kvm)
fi

# --- C side -------------------------------------------------------------------
if [ -z "${C_BIN:-}" ]; then
    log "Building/locating the C selftests (ci/build-c-selftests.sh)..."
    c_dir=$("$SCRIPT_DIR/build-c-selftests.sh" | tail -n 1)
    C_BIN="$c_dir/demand_paging_test"
fi
[ -x "$C_BIN" ] || { log "C binary not found or not executable: $C_BIN"; exit 1; }
c_cmd=("$C_BIN")

LOG_DIR=${LOG_DIR:-$(mktemp -d /tmp/compare-demand-paging.XXXXXX)}
mkdir -p "$LOG_DIR"

# Print the overall rate of one run's output file, or nothing.
# The C test prints: "Overall demand paging rate:\t%f pgs/sec".
extract_rate() {
    sed -n -E 's/.*Overall demand paging rate:[[:space:]]*([0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?).*/\1/p' "$1" |
        head -n 1
}

# Median of the numbers given as arguments ("-" if none), with MEDIAN_DIGITS decimals (default 2).
median() {
    if [ $# -eq 0 ]; then
        echo "-"
        return
    fi
    printf '%s\n' "$@" | sort -g | awk -v digits="${MEDIAN_DIGITS:-2}" '
        { v[NR] = $1 }
        END {
            if (NR % 2) m = v[(NR + 1) / 2]; else m = (v[NR / 2] + v[NR / 2 + 1]) / 2
            printf "%.*f\n", digits, m
        }'
}

# run_one <side> <set index> <round> <options...>; sets $rate ("" on failure)
run_one() {
    local side=$1 idx=$2 round=$3
    shift 3
    local out="$LOG_DIR/set$idx.$side.round$round.log" rc=0
    local -a cmd
    if [ "$side" = c ]; then cmd=("${c_cmd[@]}"); else cmd=("${java_cmd[@]}"); fi
    (cd "$REPO_ROOT" && timeout "$RUN_TIMEOUT" "${cmd[@]}" "$@") >"$out" 2>&1 || rc=$?
    echo "exit status: $rc" >>"$out"
    rate=$(extract_rate "$out")
    if [ "$rc" -ne 0 ] || [ -z "$rate" ]; then
        log "  round $round $side: FAILED (exit $rc${rate:+, rate $rate}), see $out"
        rate=""
        return
    fi
    log "  round $round $side: $rate pgs/sec"
}

IFS=';' read -r -a sets <<<"$OPTION_SETS"
log "C:    ${c_cmd[*]}"
log "Java: ${java_cmd[*]}"
log "Rounds: $ROUNDS; logs in $LOG_DIR"

failures=0
rows=()
idx=0
for set in "${sets[@]}"; do
    idx=$((idx + 1))
    read -r -a opts <<<"$set"
    log "[$idx] options: ${opts[*]}"
    c_rates=()
    j_rates=()
    round_ratios=()
    for round in $(seq 1 "$ROUNDS"); do
        if [ $((round % 2)) -eq 1 ]; then order=(c java); else order=(java c); fi
        c_rate="" j_rate=""
        for side in "${order[@]}"; do
            run_one "$side" "$idx" "$round" "${opts[@]}"
            if [ -z "$rate" ]; then
                failures=$((failures + 1))
            elif [ "$side" = c ]; then
                c_rates+=("$rate")
                c_rate=$rate
            else
                j_rates+=("$rate")
                j_rate=$rate
            fi
        done
        if [ -n "$c_rate" ] && [ -n "$j_rate" ]; then
            round_ratios+=("$(awk -v j="$j_rate" -v c="$c_rate" 'BEGIN { printf "%.4f", j / c }')")
        fi
    done
    c_med=$(median ${c_rates[@]+"${c_rates[@]}"})
    j_med=$(median ${j_rates[@]+"${j_rates[@]}"})
    if [ "$c_med" != "-" ] && [ "$j_med" != "-" ]; then
        ratio=$(awk -v j="$j_med" -v c="$c_med" 'BEGIN { if (c > 0) printf "%.3f", j / c; else print "-" }')
    else
        ratio="-"
    fi
    log "    C:    ${c_rates[*]:-none}"
    log "    Java: ${j_rates[*]:-none}"
    log "    Java/C per round: ${round_ratios[*]:-none}"
    round_med=$(MEDIAN_DIGITS=3 median ${round_ratios[@]+"${round_ratios[@]}"})
    rows+=("${opts[*]}|$c_med|$j_med|$ratio|$round_med|${#c_rates[@]}/$ROUNDS|${#j_rates[@]}/$ROUNDS")
done

echo
printf '%-32s %12s %12s %8s %12s %6s %6s\n' "options" "C median" "Java median" "Java/C" "round ratio" "C ok" "J ok"
printf '%-32s %12s %12s %8s %12s %6s %6s\n' "-------" "--------" "-----------" "------" "-----------" "----" "----"
for row in "${rows[@]}"; do
    IFS='|' read -r o c j r rr cok jok <<<"$row"
    printf '%-32s %12s %12s %8s %12s %6s %6s\n' "$o" "$c" "$j" "$r" "$rr" "$cok" "$jok"
done
echo "(rates: overall demand paging rate, pgs/sec; median of successful runs; round ratio: median of the"
echo " per-round Java/C ratios)"

if [ "$failures" -gt 0 ]; then
    log "$failures run(s) failed; logs in $LOG_DIR"
    exit 1
fi
