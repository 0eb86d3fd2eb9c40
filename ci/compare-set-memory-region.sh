#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Wall time of the upstream C set_memory_region_test against the Java port on
# /dev/kvm (selftests.jar --backend kvm), on this machine. Runs ROUNDS
# alternating rounds (C first on odd rounds, Java first on even ones), checks
# that every run passed, and prints each side's median wall time and Java/C.
#
# Environment:
#   ROUNDS      rounds (default 3)
#   LOOPS       argv[1] of both tests (default: none, i.e. 10)
#   C_BIN       the C binary (default: built/located via ci/build-c-selftests.sh)
#   JAVA_JAR    the jar (default: <repo>/selftests/target/selftests.jar)
#   JAVA        java launcher (default: java)
#   LOG_DIR     where each run's output is kept (default: a new mktemp -d)
#
# Exit status: 0 every run passed; 1 a run failed; 2 the jar is missing.
set -euo pipefail

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
REPO_ROOT=$(cd "$SCRIPT_DIR/.." && pwd -P)
ROUNDS=${ROUNDS:-3}
LOOPS=${LOOPS:-}
JAVA=${JAVA:-java}
JAVA_JAR=${JAVA_JAR:-$REPO_ROOT/selftests/target/selftests.jar}
LOG_DIR=${LOG_DIR:-$(mktemp -d)}
mkdir -p "$LOG_DIR"

log() { printf '%s\n' "$*" >&2; }

case "$ROUNDS" in
    '' | *[!0-9]* | 0) log "ROUNDS must be a positive integer (got '$ROUNDS')"; exit 1 ;;
esac
[ -f "$JAVA_JAR" ] || { log "Java port not built: $JAVA_JAR is missing ('mvn -B -q -DskipTests package')."; exit 2; }
if [ -z "${C_BIN:-}" ]; then
    c_dir=$("$SCRIPT_DIR/build-c-selftests.sh" | tail -n 1)
    C_BIN="$c_dir/set_memory_region_test"
fi
[ -x "$C_BIN" ] || { log "C binary not found or not executable: $C_BIN"; exit 1; }

c_cmd=("$C_BIN")
java_cmd=("$JAVA" -jar "$JAVA_JAR" set_memory_region_test --backend kvm)
if [ -n "$LOOPS" ]; then
    c_cmd+=("$LOOPS")
    java_cmd+=("$LOOPS")
fi

# One timed run: prints the wall seconds; the output goes to $LOG_DIR/<name>.
timed() {
    local name=$1
    shift
    local start end
    start=$(date +%s.%N)
    if ! "$@" >"$LOG_DIR/$name" 2>&1; then
        log "$name failed (output in $LOG_DIR/$name):"
        tail -n 20 "$LOG_DIR/$name" >&2
        exit 1
    fi
    end=$(date +%s.%N)
    echo "$end - $start" | bc
}

median() { sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2}'; }

c_times=()
java_times=()
for round in $(seq 1 "$ROUNDS"); do
    if [ $((round % 2)) -eq 1 ]; then
        c_times+=("$(timed "c.$round" "${c_cmd[@]}")")
        java_times+=("$(timed "java.$round" "${java_cmd[@]}")")
    else
        java_times+=("$(timed "java.$round" "${java_cmd[@]}")")
        c_times+=("$(timed "c.$round" "${c_cmd[@]}")")
    fi
    log "round $round: C ${c_times[-1]} s, Java ${java_times[-1]} s"
done
c_med=$(printf '%s\n' "${c_times[@]}" | median)
java_med=$(printf '%s\n' "${java_times[@]}" | median)
printf 'set_memory_region_test %s: C median %.1f s, Java median %.1f s, Java/C %.2f (%d rounds, logs in %s)\n' \
    "${LOOPS:-10}" "$c_med" "$java_med" "$(echo "$java_med / $c_med" | bc -l)" "$ROUNDS" "$LOG_DIR"
