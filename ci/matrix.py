#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""Every port x {sim, kvm} x {in-process, container}: runs each, prints a summary table, and writes it as
JSON and JUnit XML (OUT/matrix.json, OUT/matrix-junit.xml) so a CI system shows it natively. Then checks
that the runs agree: on sim the container's --json equals the in-process one (wall-clock fields aside: none
on sim, whose times are virtual); on kvm both carry the same result and the same stat names.

usage: ci/matrix.sh [OUT_DIR]   (default target/matrix). Needs selftests/target/selftests.jar and Docker.
"""
import json
import os
import shlex
import subprocess
import sys
import time
import xml.etree.ElementTree as ET

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
JAR = os.path.join(TOP, "selftests", "target", "selftests.jar")
IMAGE = "kvm-selftests:matrix"
BACKENDS = ["sim", "kvm"]
MODES = ["in-process", "container"]
SKIP = 4


def registry():
    """The one registry of ports (selftests' Ports.java), as `selftests.jar --ports` prints it."""
    out = subprocess.run(["java", "-jar", JAR, "--ports"], check=True, capture_output=True, text=True).stdout
    return json.loads(out)


def options(ports):
    """Matrix rows: (row name, port, options), each port's rows from the registry, in its order."""
    return [(row, p["name"], shlex.split(opts)) for p in ports for row, opts in p["matrix"].items()]


def build_image():
    ctx = subprocess.run([os.path.join(TOP, "ci", "container", "build-context.sh"), "/tmp/kvm-selftests-matrix-ctx", JAR],
                         check=True, capture_output=True, text=True).stdout.strip().splitlines()[-1]
    subprocess.run(["docker", "build", "-q", "-t", IMAGE, ctx], check=True, capture_output=True)
    size = subprocess.run(["docker", "image", "inspect", "-f", "{{.Size}}", IMAGE], check=True, capture_output=True,
                          text=True).stdout.strip()
    return int(size)


def kvm_gid():
    return os.stat("/dev/kvm").st_gid if os.path.exists("/dev/kvm") else None


def kvm_user():
    """Who opens /dev/kvm with no capabilities: nobody in its group (root:kvm 0660), or, where the group has no
    access (a root:root 0600 device), its owner; SelftestsContainer.kvmUser() decides the same way."""
    st = os.stat("/dev/kvm")
    return "%d:%d" % (65534 if st.st_mode & 0o060 == 0o060 else st.st_uid, st.st_gid)


def command(mode, backend, port, opts, out_dir, json_name):
    args = [port, "--backend", backend, *opts]
    if mode == "in-process":
        return ["java", "-jar", JAR, *args, "--json", os.path.join(out_dir, json_name)]
    docker = ["docker", "run", "--rm", "--network", "none", "--read-only", "--tmpfs", "/tmp:rw,nosuid,nodev,size=256m",
              "--cap-drop", "ALL", "-v", out_dir + ":/out"]
    gid = kvm_gid()
    if backend == "kvm" and gid is not None:
        docker += ["--device", "/dev/kvm"]
        if "-u" in opts:
            # userfaultfd with vm.unprivileged_userfaultfd=0: CAP_SYS_PTRACE, which Docker gives only to root
            docker += ["--user", "0:0", "--cap-add", "SYS_PTRACE", "--security-opt", "seccomp=unconfined"]
        else:
            docker += ["--user", kvm_user()]
    else:
        docker += ["--user", "65534:65534"]
    return docker + [IMAGE, *args, "--json", "/out/" + json_name]


def run(cmd):
    t0 = time.monotonic()
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    return p.returncode, time.monotonic() - t0, p.stdout + p.stderr


def stat_names(report):
    s = report.get("stats", {})
    return sorted(["vm." + k for k in s.get("vm", {})] + ["vcpu." + k for k in s.get("vcpu", {})])


def main():
    out_dir = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else os.path.join(TOP, "target", "matrix"))
    os.makedirs(out_dir, exist_ok=True)
    os.chmod(out_dir, 0o777)  # the container's unprivileged user writes its --json here
    image_bytes = build_image()
    rows = options(registry())
    results = []
    for row, port, opts in rows:
        for backend in BACKENDS:
            for mode in MODES:
                json_name = "%s-%s-%s.json" % (row, backend, mode)
                path = os.path.join(out_dir, json_name)
                if os.path.exists(path):
                    os.remove(path)
                rc, secs, log = run(command(mode, backend, port, opts, out_dir, json_name))
                outcome = "pass" if rc == 0 else "skip" if rc == SKIP else "fail"
                report = json.load(open(path)) if os.path.exists(path) else None
                results.append({"row": row, "test": port, "options": " ".join(opts), "backend": backend, "mode": mode,
                                "result": outcome, "exit_code": rc, "wall_s": round(secs, 2), "log": log if outcome != "pass" else "",
                                "report": report})
    checks = []
    by_key = {(r["row"], r["backend"], r["mode"]): r for r in results}
    for row, _, _ in rows:
        a, b = by_key[(row, "sim", "in-process")]["report"], by_key[(row, "sim", "container")]["report"]
        checks.append({"row": row, "check": "sim --json: container equals in-process",
                       "ok": a is not None and a == b})
        a, b = by_key[(row, "kvm", "in-process")]["report"], by_key[(row, "kvm", "container")]["report"]
        ok = a is not None and b is not None and a["result"] == b["result"] and stat_names(a) == stat_names(b)
        checks.append({"row": row, "check": "kvm --json: same result and stat names", "ok": ok})

    print("%-28s %-4s %-11s %-5s %8s" % ("test", "back", "mode", "result", "wall s"))
    for r in results:
        print("%-28s %-4s %-11s %-5s %8.2f" % (r["row"], r["backend"], r["mode"], r["result"], r["wall_s"]))
    for c in checks:
        print("%-4s %s: %s" % ("ok" if c["ok"] else "FAIL", c["row"], c["check"]))
    print("image: %s, %.1f MB" % (IMAGE, image_bytes / 1e6))

    with open(os.path.join(out_dir, "matrix.json"), "w") as f:
        json.dump({"image_bytes": image_bytes, "results": [{k: v for k, v in r.items() if k != "report"} for r in results],
                   "checks": checks}, f, indent=2)
    suite = ET.Element("testsuite", name="kvm-selftests-matrix", tests=str(len(results) + len(checks)),
                       failures=str(sum(r["result"] == "fail" for r in results) + sum(not c["ok"] for c in checks)),
                       skipped=str(sum(r["result"] == "skip" for r in results)))
    for r in results:
        case = ET.SubElement(suite, "testcase", classname="matrix.%s.%s" % (r["backend"], r["mode"]), name=r["row"],
                             time=str(r["wall_s"]))
        if r["result"] == "fail":
            ET.SubElement(case, "failure", message="exit %d" % r["exit_code"]).text = r["log"][-4000:]
        elif r["result"] == "skip":
            ET.SubElement(case, "skipped", message=r["log"].strip().splitlines()[-1] if r["log"].strip() else "skip")
    for c in checks:
        case = ET.SubElement(suite, "testcase", classname="matrix.checks", name="%s: %s" % (c["row"], c["check"]))
        if not c["ok"]:
            ET.SubElement(case, "failure", message="the runs disagree")
    ET.ElementTree(suite).write(os.path.join(out_dir, "matrix-junit.xml"), encoding="utf-8", xml_declaration=True)
    failed = [r for r in results if r["result"] == "fail"] + [c for c in checks if not c["ok"]]
    passed = sum(r["result"] == "pass" for r in results) + sum(c["ok"] for c in checks)
    skipped = sum(r["result"] == "skip" for r in results)
    print("matrix: %d passed, %d failed, %d skipped" % (passed, len(failed), skipped))
    for r in failed:
        if "log" in r:
            print("--- %s %s %s:\n%s" % (r["row"], r["backend"], r["mode"], r["log"][-2000:]))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
