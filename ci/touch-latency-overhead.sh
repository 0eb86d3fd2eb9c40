#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Does --touch-latency change what demand_paging_test reports? Alternates runs without and with it on one
# backend and prints each run's "Overall demand paging rate" and the medians. Without it the guest program and
# the VM are the C test's (TimedMemstressTest checks that on the simulator); this measures the cost when on.
#   ROUNDS=7 BACKEND=kvm ci/touch-latency-overhead.sh -b 16M
set -euo pipefail
ROUNDS=${ROUNDS:-7}
BACKEND=${BACKEND:-kvm}
JAR=${JAR:-selftests/target/selftests.jar}
off=() on=()
rate() { java -jar "$JAR" demand_paging_test --backend "$BACKEND" "$@" | awk -F'\t' '/Overall demand paging rate/ {print $2+0}'; }
for r in $(seq 1 "$ROUNDS"); do
  if [ $((r % 2)) -eq 1 ]; then
    a=$(rate "$@"); b=$(rate "$@" --touch-latency)
  else
    b=$(rate "$@" --touch-latency); a=$(rate "$@")
  fi
  off+=("$a"); on+=("$b")
  echo "round $r: off $a pgs/s, on $b pgs/s"
done
median() { printf '%s\n' "$@" | sort -g | awk '{v[NR]=$1} END {print (NR%2) ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2}'; }
echo "median off: $(median "${off[@]}") pgs/s; median on: $(median "${on[@]}") pgs/s"
