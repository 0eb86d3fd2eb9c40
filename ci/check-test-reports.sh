#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Fails when a test class of the tree did not run: every class under */src/test/java with a JUnit 5 or jqwik
# test method must have left a Surefire or Failsafe report in its module's target/ after `mvn verify`.
# Surefire's default includes once silently left the jqwik *Properties classes out; this catches any
# such gap (a name no include pattern matches, a module without Failsafe, a test class in the wrong tree).
#
# Usage: ci/check-test-reports.sh [ROOT [SKIP_TESTS]]   (default: the repository root; SKIP_TESTS=true checks
# nothing). Modules that left no reports at
# all (built with -DskipTests) are not judged.
set -euo pipefail
root=${1:-$(cd "$(dirname "$0")/.." && pwd)}
if [[ ${2:-false} == true ]]; then
    echo "check-test-reports: tests skipped (-DskipTests), nothing to check"
    exit 0
fi
annotations='@(Test|ParameterizedTest|RepeatedTest|TestFactory|TestTemplate|Property|Example|OnBackends)\b'
missing=0
checked=0
for src in "$root"/*/src/test/java; do
    module=$(dirname "$(dirname "$(dirname "$src")")")
    reports=()
    for d in "$module/target/surefire-reports" "$module/target/failsafe-reports"; do
        [[ -d $d ]] && reports+=("$d")
    done
    [[ ${#reports[@]} -gt 0 ]] || continue
    while IFS= read -r file; do
        grep -Eq '^\s*(public\s+)?(final\s+)?abstract\s+class' "$file" && continue
        rel=${file#"$src"/}
        fqcn=${rel%.java}
        fqcn=${fqcn//\//.}
        checked=$((checked + 1))
        if ! find "${reports[@]}" -maxdepth 1 \( -name "TEST-$fqcn.xml" -o -name "TEST-$fqcn\$*.xml" \) | grep -q .; then
            echo "not run: $fqcn ($(basename "$module")): no Surefire or Failsafe report; does its name match an include pattern?" >&2
            missing=$((missing + 1))
        fi
    done < <(grep -rlE "$annotations" "$src" --include='*.java' | sort)
done
if [[ $missing -gt 0 ]]; then
    echo "check-test-reports: $missing of $checked test classes did not run" >&2
    exit 1
fi
echo "check-test-reports: all $checked test classes ran"
