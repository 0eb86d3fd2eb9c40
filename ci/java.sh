# SPDX-License-Identifier: GPL-2.0-only
# Sourced by the scripts that run the simulator (ci/selftests.sh, ci/bench.sh): sets JAVA to the newest JDK this
# machine has, preferring 24 and later. There the simulator's threads, a port's main thread included, are
# virtual threads on one carrier (SimThreads, JEP 491), so a handoff between them is a continuation switch
# instead of an OS thread wake-up: runs with several simulated threads take about a third of the wall time.
# Results are the same on every JDK. JAVA=... chooses one; otherwise JAVA_HOME, /usr/lib/jvm/* and `java` on
# PATH are looked at (JVM_DIR replaces /usr/lib/jvm), and a fallback below 24 says so on stderr.

# The feature release (17, 21, 25, ...) of the java binary $1, or nothing if it does not run.
java_feature_of() {
    "$1" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java.specification.version = //p' | head -1
}

pick_java() {
    if [ -n "${JAVA:-}" ]; then
        return 0
    fi
    local best="" best_feature=0 candidate feature
    for candidate in ${JAVA_HOME:+"$JAVA_HOME/bin/java"} "${JVM_DIR:-/usr/lib/jvm}"/*/bin/java "$(command -v java || true)"; do
        [ -n "$candidate" ] && [ -x "$candidate" ] || continue
        feature=$(java_feature_of "$candidate")
        case "$feature" in ''|*[!0-9]*) continue ;; esac
        if [ "$feature" -gt "$best_feature" ]; then
            best=$candidate
            best_feature=$feature
        fi
    done
    if [ -z "$best" ]; then
        echo "$(basename "$0"): no java found (JAVA_HOME, /usr/lib/jvm, PATH); install a JDK 17 or later" >&2
        exit 2
    fi
    JAVA=$best
    if [ "$best_feature" -lt 24 ]; then
        echo "$(basename "$0"): running on Java $best_feature ($best): no JDK 24 or later found in JAVA_HOME," \
            "/usr/lib/jvm or PATH, so simulated threads are platform threads and multi-threaded simulated runs" \
            "take about 3x the wall time (same results)" >&2
    fi
}
