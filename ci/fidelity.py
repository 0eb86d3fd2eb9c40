#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""One fidelity report of this host's /dev/kvm against the simulator, in one directory with an index.html:
compare on every port's matrix rows (timings and counters), a short calibrate (the cost model fitted to this
host), and conformance (random histories on both backends). A KVM developer with a TDP host or a patched
kernel runs it once and hands over the directory.

Usage: ci/fidelity.sh [OUT_DIR] (default target/fidelity); FIDELITY_ROUNDS (compare rounds, default 3),
FIDELITY_STEPS (conformance steps, default 20000), FIDELITY_CALIBRATE_ROUNDS (default 3)."""
import html
import json
import os
import shlex
import subprocess
import sys
import time

JAR = "selftests/target/selftests.jar"


def run(args, log):
    """Runs the jar with args, its output to log; returns (exit code, seconds)."""
    t = time.monotonic()
    with open(log, "w") as f:
        rc = subprocess.run(["java", "-jar", JAR] + args, stdout=f, stderr=subprocess.STDOUT).returncode
    return rc, time.monotonic() - t


def last_line(path, prefix):
    lines = [l.rstrip("\n") for l in open(path) if l.startswith(prefix)]
    return lines[-1] if lines else ""


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else "target/fidelity"
    os.makedirs(out, exist_ok=True)
    rounds = os.environ.get("FIDELITY_ROUNDS", "3")
    steps = os.environ.get("FIDELITY_STEPS", "20000")
    cal_rounds = os.environ.get("FIDELITY_CALIBRATE_ROUNDS", "3")
    ports = json.loads(subprocess.run(["java", "-jar", JAR, "--ports"], check=True, capture_output=True, text=True).stdout)
    rows = []
    for p in ports:
        for row, opts in p["matrix"].items():
            base = os.path.join(out, "compare-" + row)
            args = ["compare", p["name"]] + shlex.split(opts) + ["--rounds", rounds, "--json", base + ".json", "--html", base + ".html"]
            rc, secs = run(args, base + ".txt")
            headline = next((l.strip() for l in open(base + ".txt") if l.startswith(p["name"]) or "# SKIP" in l), "")
            rows.append(("compare " + row, rc, secs, headline, os.path.basename(base + ".html"), os.path.basename(base + ".txt")))
            print(f"fidelity: compare {row}: exit {rc}, {secs:.0f} s", flush=True)
    base = os.path.join(out, "calibrate")
    rc, secs = run(["calibrate", "--rounds", cal_rounds, "--out", base + ".cost", "--json", base + ".json"], base + ".txt")
    rows.append(("calibrate", rc, secs, last_line(base + ".txt", "#"), os.path.basename(base + ".cost"), os.path.basename(base + ".txt")))
    print(f"fidelity: calibrate: exit {rc}, {secs:.0f} s", flush=True)
    base = os.path.join(out, "conformance")
    rc, secs = run(["conformance", "--steps", steps, "--json", base + ".json", "--out", out], base + ".txt")
    rows.append(("conformance", rc, secs, last_line(base + ".txt", "# ") , os.path.basename(base + ".json"), os.path.basename(base + ".txt")))
    print(f"fidelity: conformance: exit {rc}, {secs:.0f} s", flush=True)
    host = last_line(os.path.join(out, "conformance.txt"), "# conformance:")
    with open(os.path.join(out, "index.html"), "w") as f:
        f.write("<!doctype html><meta charset=utf-8><title>Simulator fidelity on this host</title>\n")
        f.write("<h1>Simulator fidelity on this host</h1>\n<p>" + html.escape(host) + "</p>\n")
        f.write("<table border=1 cellpadding=4><tr><th>check</th><th>exit</th><th>seconds</th><th>result</th><th>report</th><th>log</th></tr>\n")
        for name, rc, secs, result, report, log in rows:
            # a skipped check (exit 4) writes no report
            link = f"<a href='{report}'>{report}</a>" if os.path.exists(os.path.join(out, report)) else "-"
            f.write(f"<tr><td>{html.escape(name)}</td><td>{rc}</td><td>{secs:.0f}</td><td>{html.escape(result)}</td>"
                    f"<td>{link}</td><td><a href='{log}'>{log}</a></td></tr>\n")
        f.write("</table>\n<p>Exit codes are kselftest's: 0 pass, 1 fail, 4 skip.</p>\n")
    print(f"fidelity: {os.path.join(out, 'index.html')}")
    return 0 if all(r[1] in (0, 4) for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
