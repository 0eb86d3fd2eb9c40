#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Mutation test of mmu-sim's own test suite: each ci/mutants/NN-name.patch is a small, plausible regression of
# the simulator's production code (a dropped flush, a skipped check, an off-by-one, a wrong errno...). For each
# one, in a private copy of the tree, apply it, run every mmu-sim test class (*Test, *Tests, *Properties) and
# record whether some test fails ("killed") or the suite still passes ("survived"), with the first failing test
# and its message. The caller's tree is never modified; the copy is removed on exit or interrupt.
#
# Speed: the copy is built once (mvn test-compile); each mutant then recompiles only the files its patch
# touches, with javac, over a pristine copy of target/classes, and runs surefire:test on the classes as they are.
#
# Usage: ci/mutants.sh [--list] [--keep] [--first-failure] [NAME...]
#   NAME        a mutant (file name without .patch, or just its NN- prefix); default: all
#   --list      print the mutants and exit
#   --keep      keep the working copy (its path is printed)
#   --first-failure  stop each mutant's run at its first failing test (faster; "failing tests" is then 1)
#   --check     only check that every patch still applies to the tree and is in INDEX (seconds; CI runs it)
# Environment: MUTANT_TIMEOUT (seconds per mutant run, default 240; a hang counts as killed), MUTANT_TESTS (surefire -Dtest pattern,
#   default '*Test,*Tests,*Properties'), MUTANTS_OUT (directory for mutants.txt/.json and logs, default target/).
# Exit: 0 every mutant killed, 1 some survived (or did not apply/compile), 2 usage error.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
MDIR=$ROOT/ci/mutants
OUT=${MUTANTS_OUT:-$ROOT/target}
TIMEOUT=${MUTANT_TIMEOUT:-240}
TESTS=${MUTANT_TESTS:-'*Test,*Tests,*Properties'}
MODULE=mmu-sim
usage() { echo "usage: ci/mutants.sh [--list] [--check] [--keep] [--first-failure] [NAME...]" >&2; }

keep=0
list=0
check=0
FIRST_FAILURE=""
names=()
for a in "$@"; do
    case $a in
        --list) list=1 ;;
        --check) check=1 ;;
        --keep) keep=1 ;;
        --first-failure) FIRST_FAILURE=1 ;;
        -h|--help) awk 'NR > 2 && /^#/ { sub(/^# ?/, ""); print; next } NR > 2 { exit }' "$0"; exit 0 ;;
        -*) echo "ci/mutants.sh: unknown option $a" >&2; usage; exit 2 ;;
        *) names+=("$a") ;;
    esac
done

# The mutant list, in order, with each one's expected catching test and description from INDEX.
all=()
for p in "$MDIR"/*.patch; do all+=("$(basename "$p" .patch)"); done
index_field() { awk -F'\t' -v n="$1" -v f="$2" '$1 == n { print $f }' "$MDIR/INDEX"; }
if [ "$check" = 1 ]; then
    # A mutant whose patch no longer applies tests nothing: the code it mutated moved on without it.
    stale=0
    for n in "${all[@]}"; do
        if ! sed -n '/^diff --git/,$p' "$MDIR/$n.patch" | (cd "$ROOT" && git apply --check 2>/dev/null); then
            echo "ci/mutants.sh: $n.patch no longer applies to the tree: regenerate it against the current code" >&2
            stale=1
        fi
        if [ -z "$(index_field "$n" 2)" ]; then
            echo "ci/mutants.sh: $n is not in ci/mutants/INDEX" >&2
            stale=1
        fi
    done
    [ "$stale" = 0 ] && echo "ci/mutants.sh: all ${#all[@]} mutants apply and are indexed"
    exit "$stale"
fi
if [ "$list" = 1 ]; then
    for n in "${all[@]}"; do printf '%-40s %s\n' "$n" "$(index_field "$n" 3)"; done
    exit 0
fi
selected=()
if [ ${#names[@]} -eq 0 ]; then
    selected=("${all[@]}")
else
    for want in "${names[@]}"; do
        hit=""
        for n in "${all[@]}"; do
            if [ "$n" = "$want" ] || [ "${n%%-*}" = "$want" ] || [ "$n" = "${want%.patch}" ]; then hit=$n; fi
        done
        if [ -z "$hit" ]; then echo "ci/mutants.sh: no mutant named $want (see --list)" >&2; usage; exit 2; fi
        selected+=("$hit")
    done
fi
for tool in mvn javac git python3 timeout tar; do
    command -v "$tool" >/dev/null || { echo "ci/mutants.sh: $tool not found" >&2; exit 2; }
done

WORK=$(mktemp -d "${TMPDIR:-/tmp}/mutants.XXXXXX")
child=""
cleanup() {
    if [ -n "$child" ] && kill -0 "$child" 2>/dev/null; then kill -- -"$child" 2>/dev/null || kill "$child" 2>/dev/null || true; fi
    if [ "$keep" = 1 ]; then echo "working copy kept: $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Runs "$@" in its own process group (so an interrupt or the timeout takes its forked JVMs too).
run_bg() {
    set +e
    setsid "$@" &
    child=$!
    wait "$child"
    local rc=$?
    child=""
    set -e
    return $rc
}

# The tree as the caller has it (tracked and untracked files, uncommitted edits included; no target/, no .git).
(cd "$ROOT" && git ls-files -co --exclude-standard -z | tar --null -T - -cf -) | tar -xf - -C "$WORK"
mkdir -p "$OUT/mutants-logs"
cd "$WORK"
MVN=(mvn -B -q -o -pl "$MODULE")
# The test runs are not quiet: surefire's "Running <class>" lines name the class a hanging mutant hung in.
MVN_TEST=(mvn -B -o -pl "$MODULE")
CLASSES=$MODULE/target/classes
echo "building $MODULE once in $WORK ..."
t0=$(date +%s)
if ! run_bg "${MVN[@]}" test-compile >"$OUT/mutants-logs/build.log" 2>&1; then
    echo "ci/mutants.sh: the unmodified tree does not build; see $OUT/mutants-logs/build.log" >&2
    exit 1
fi
cp -a "$CLASSES" "$WORK/classes.orig"
CP=$CLASSES

# One surefire run on the classes as they are; the JUnit reports land in $MODULE/target/surefire-reports.
# $2, if given, replaces the -Dtest pattern.
run_tests() {
    # jqwik replays a failing seed it remembers first: each mutant starts from an empty database.
    rm -rf "$MODULE/target/surefire-reports" "$MODULE/.jqwik-database" .jqwik-database
    run_bg timeout --kill-after=30 "$TIMEOUT" "${MVN_TEST[@]}" surefire:test -Dtest="${2:-$TESTS}" \
        -Dsurefire.failIfNoSpecifiedTests=false -DtrimStackTrace=true ${FIRST_FAILURE:+-Dsurefire.skipAfterFailureCount=1} \
        -DargLine="-Djqwik.shrinking.default=OFF -Djqwik.failures.runfirst=false" >"$1" 2>&1
}

# First failing test (in run order) and its message, the number of failing tests, and all of them, as
# tab-separated fields; the expected test (INDEX) is preferred as "killed by" when it is among the failures.
summarize_reports() {
    python3 - "$MODULE/target/surefire-reports" "$1" <<'PY'
import glob, os, re, sys, xml.etree.ElementTree as ET
rdir, expected = sys.argv[1], sys.argv[2]
fails = []
for f in glob.glob(os.path.join(rdir, "TEST-*.xml")):
    try:
        suite = ET.parse(f).getroot()
    except ET.ParseError:
        continue
    ts = suite.get("timestamp", "")
    for i, tc in enumerate(suite.iter("testcase")):
        for kind in ("failure", "error"):
            el = tc.find(kind)
            if el is None:
                continue
            msg = (el.get("message") or el.text or el.get("type") or "").strip()
            line = " ".join(l.strip() for l in msg.splitlines() if l.strip()) or el.get("type") or kind
            # A property's "[seed ..., setup ...] Expecting empty but was: [problems]": the first problem says it.
            m = re.search(r"Expecting empty but was:?\s*(.*)", line)
            if m:
                line = "problems: " + m.group(1)
            cls = tc.get("classname", "").removeprefix("dev.kvmharness.mmu.")
            fails.append((ts, f, i, f"{cls}.{tc.get('name', '').split('(')[0]}", line[:240].replace("\t", " ")))
            break
fails.sort()
exp = [x for x in fails if expected and expected.split(" ")[0] in x[3]]
pick = exp[0] if exp else (fails[0] if fails else None)
every = ",".join(dict.fromkeys(x[3] for x in fails))
# Fields are separated by US (0x1f): tabs are IFS whitespace to read, and empty fields would collapse.
if pick:
    print(f"{pick[3]}\x1f{pick[4]}\x1f{len(fails)}\x1f{every}")
else:
    print("\x1f\x1f0\x1f")
PY
}

echo "baseline: the unmodified tree's tests ..."
if ! run_tests "$OUT/mutants-logs/baseline.log"; then
    echo "ci/mutants.sh: the unmodified tree fails its tests; see $OUT/mutants-logs/baseline.log" >&2
    summarize_reports "" >&2
    exit 1
fi
t1=$(date +%s)
echo "baseline passes ($((t1 - t0)) s including the build)"

results=()
survived=0
for n in "${selected[@]}"; do
    patch=$MDIR/$n.patch
    expected=$(index_field "$n" 2)
    log=$OUT/mutants-logs/$n.log
    start=$(date +%s)
    status=""
    by=""
    msg=""
    nfail=0
    every=""
    if ! git apply --check "$patch" 2>"$log"; then
        status=NOT-APPLIED
        msg=$(head -1 "$log")
    else
        git apply "$patch"
        mapfile -t files < <(git apply --numstat "$patch" | awk '{print $3}' | grep "^$MODULE/src/main/java/.*\.java$" || true)
        if [ ${#files[@]} -gt 0 ] && ! javac --release 17 -nowarn -encoding UTF-8 -cp "$CP" -d "$CLASSES" "${files[@]}" >"$log" 2>&1; then
            status=NO-COMPILE
            msg=$(grep -m1 error "$log" || true)
        elif run_tests "$log"; then
            status=SURVIVED
        else
            rc=$?
            IFS=$'\x1f' read -r by msg nfail every < <(summarize_reports "$expected")
            if [ "$rc" = 124 ] || [ "$rc" = 137 ]; then
                status=KILLED
                # The class surefire started last and never reported is the one that hung.
                hung=$(grep -o 'Running dev\.kvmharness\.mmu\.[A-Za-z0-9_.$]*' "$log" | sed 's/^Running dev\.kvmharness\.mmu\.//' | tail -1)
                # Several classes may hang on the same mutant; the test INDEX expects says whether it is named.
                cls=$(printf '%s' "$expected" | awk '{print $1}' | sed 's/.*\.//')
                if [ -z "$by" ] && [[ $cls =~ ^[A-Za-z0-9]+(Test|Tests|Properties)$ ]]; then
                    run_tests "$log.expected" "$cls" || true
                    IFS=$'\x1f' read -r by msg nfail every < <(summarize_reports "$expected")
                    [ -z "$by" ] || msg="${hung:-the suite} hangs (timeout after ${TIMEOUT} s); $cls alone: $msg"
                fi
                by=${by:-"(timeout after ${TIMEOUT} s${hung:+ in $hung})"}
                msg=${msg:-"the run did not finish: a hang (endless retry or livelock)"}
            elif [ "${nfail:-0}" -gt 0 ]; then
                status=KILLED
            else
                status=KILLED
                by="(build failed without a test report)"
                msg=$(grep -m1 -E 'ERROR|Exception' "$log" || tail -1 "$log")
            fi
        fi
        git apply -R "$patch"
        rm -rf "$CLASSES"
        cp -a "$WORK/classes.orig" "$CLASSES"
    fi
    secs=$(( $(date +%s) - start ))
    [ "$status" = KILLED ] || survived=$((survived + 1))
    printf '%-40s %-11s %4ss  %s  %s\n' "$n" "$status" "$secs" "${by:--}" "${msg:-}"
    results+=("$n"$'\t'"$status"$'\t'"$secs"$'\t'"$by"$'\t'"${nfail:-0}"$'\t'"$msg"$'\t'"$expected"$'\t'"$every")
done
t2=$(date +%s)

# The summary: a table (mutants.txt) and the same as JSON (mutants.json).
printf '%s\n' "${results[@]}" >"$WORK/results.tsv"
python3 - "$OUT" "$((t2 - t1))" "$((t1 - t0))" "$WORK/results.tsv" <<'PY'
import json, sys
out, secs, base = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[4]) if l.strip()]
recs = [dict(mutant=r[0], result=r[1], seconds=int(r[2]), killed_by=r[3], failing_tests=int(r[4] or 0),
             message=r[5], expected=r[6], failing=[t for t in (r[7] if len(r) > 7 else "").split(",") if t])
        for r in rows]
for r in recs:
    # Whether the suite without the strength tests (mmu/strength, written for survivors) kills it too.
    r["killed_without_strength_tests"] = any(not t.startswith("strength.") for t in r["failing"])
killed = sum(1 for r in recs if r["result"] == "KILLED")
lines = [f"{'mutant':<40} {'result':<11} {'secs':>4}  killed by (failing tests; * = only strength tests) / message"]
for r in recs:
    by = f"{r['killed_by']} ({r['failing_tests']}{'' if r['killed_without_strength_tests'] else '*'})" if r["result"] == "KILLED" else "-"
    lines.append(f"{r['mutant']:<40} {r['result']:<11} {r['seconds']:>4}  {by}")
    if r["message"]:
        lines.append(f"{'':<58}{r['message'][:160]}")
lines.append(f"\n{killed}/{len(recs)} killed; mutants {secs} s, build + baseline {base} s")
text = "\n".join(lines) + "\n"
open(f"{out}/mutants.txt", "w").write(text)
json.dump(dict(killed=killed, total=len(recs), seconds=secs, baseline_seconds=base, mutants=recs),
          open(f"{out}/mutants.json", "w"), indent=2)
print("\n" + text, end="")
PY
echo "written: $OUT/mutants.txt, $OUT/mutants.json, logs in $OUT/mutants-logs/"
[ "$survived" = 0 ]
