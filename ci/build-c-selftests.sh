#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Build the upstream C KVM selftests (from Debian's linux-source-6.12
# package) that the Java port is compared against.
#
# Idempotent: re-running only redoes what is missing or out of date.
# All progress output goes to stderr; the LAST line printed on stdout is the
# directory that contains the built test binaries, so callers can do
#     dir=$(ci/build-c-selftests.sh | tail -n1)
#
# Environment:
#   C_SELFTESTS_DIR      work directory (default: $HOME/.cache/kvm-c-selftests)
#   C_SELFTESTS_TARBALL  kernel source tarball
#                        (default: /usr/src/linux-source-6.12.tar.xz)
#   C_SELFTESTS_PACKAGE  Debian package providing it (default: linux-source-6.12)
#   C_SELFTESTS_TARGETS  space-separated kvm selftest names to build (default:
#                        every port's C target in the port registry,
#                        `selftests.jar --ports`; the jar is built if missing)
#   C_SELFTESTS_JOBS     make -j value (default: number of CPUs)
#
# Tested on Debian 12 (bookworm) as root; linux-source-6.12 comes from
# bookworm-security / bookworm-backports.

set -euo pipefail

TARBALL=${C_SELFTESTS_TARBALL:-/usr/src/linux-source-6.12.tar.xz}
PACKAGE=${C_SELFTESTS_PACKAGE:-linux-source-6.12}
WORK_DIR=${C_SELFTESTS_DIR:-${HOME:-/root}/.cache/kvm-c-selftests}
# The C targets of the ports, from the one registry of ports (selftests' Ports.java).
registry_targets() {
    local top jar
    top=$(cd "$(dirname "$0")/.." && pwd)
    jar=$top/selftests/target/selftests.jar
    [ -f "$jar" ] || (cd "$top" && mvn -B -q -Dstyle.color=never -DskipTests package >&2)
    java -jar "$jar" --ports | python3 -c 'import json, sys; print(" ".join(p["c_target"] for p in json.load(sys.stdin) if p["c_target"]))'
}
TARGETS=${C_SELFTESTS_TARGETS:-$(registry_targets)}
[ -n "$TARGETS" ] || { printf '[build-c-selftests] ERROR: no C targets\n' >&2; exit 1; }
JOBS=${C_SELFTESTS_JOBS:-$(nproc 2>/dev/null || echo 2)}

log() { printf '[build-c-selftests] %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# ---------------------------------------------------------------------------
# 1. Packages: the source tarball and the (small) set of build tools needed
#    for "make headers_install" and the kvm selftests.
# ---------------------------------------------------------------------------
SUDO=()
if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then
        SUDO=(sudo)
    fi
fi

apt_updated=0
apt_install() {
    command -v apt-get >/dev/null 2>&1 ||
        die "missing: $*; apt-get not available, install them manually"
    if [ "$(id -u)" -ne 0 ] && [ ${#SUDO[@]} -eq 0 ]; then
        die "missing: $*; run as root (or install sudo) so they can be installed"
    fi
    export DEBIAN_FRONTEND=noninteractive
    if [ "$apt_updated" -eq 0 ]; then
        log "apt-get update"
        "${SUDO[@]}" apt-get update >&2
        apt_updated=1
    fi
    log "apt-get install -y $*"
    "${SUDO[@]}" apt-get install -y --no-install-recommends "$@" >&2
}

# command -> Debian package providing it
declare -A TOOL_PKG=(
    [make]=make
    [gcc]=gcc
    [rsync]=rsync
    [xz]=xz-utils
    [tar]=tar
    [awk]=mawk
    [perl]=perl-base
)
missing_pkgs=()
for tool in "${!TOOL_PKG[@]}"; do
    command -v "$tool" >/dev/null 2>&1 || missing_pkgs+=("${TOOL_PKG[$tool]}")
done
# libc headers (gcc may be present without them on minimal images)
if ! dpkg -s libc6-dev >/dev/null 2>&1 && [ ! -e /usr/include/stdio.h ]; then
    missing_pkgs+=(libc6-dev)
fi
if [ ! -f "$TARBALL" ]; then
    missing_pkgs+=("$PACKAGE")
fi
if [ ${#missing_pkgs[@]} -gt 0 ]; then
    apt_install "${missing_pkgs[@]}"
fi
[ -f "$TARBALL" ] || die "$TARBALL still missing after installing $PACKAGE"

# ---------------------------------------------------------------------------
# 2. Extract (once per tarball version).
# ---------------------------------------------------------------------------
mkdir -p "$WORK_DIR"
WORK_DIR=$(cd "$WORK_DIR" && pwd -P)

# Top-level directory inside the tarball, e.g. "linux-source-6.12".
SRC_NAME=$(basename "$TARBALL")
SRC_NAME=${SRC_NAME%.tar.*}
SRC="$WORK_DIR/$SRC_NAME"
STAMP="$WORK_DIR/.$SRC_NAME.extracted"
tarball_id="$(stat -L -c '%s %Y' "$TARBALL") $TARBALL"

if [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$tarball_id" ] && [ -f "$SRC/Makefile" ]; then
    log "source already extracted in $SRC"
else
    log "extracting $TARBALL into $WORK_DIR"
    tmp="$WORK_DIR/.extract.$$"
    rm -rf "$tmp"
    mkdir -p "$tmp"
    trap 'rm -rf "$tmp"' EXIT
    tar -xf "$TARBALL" -C "$tmp"
    [ -f "$tmp/$SRC_NAME/Makefile" ] ||
        die "unexpected tarball layout: $tmp/$SRC_NAME/Makefile not found"
    rm -rf "$SRC" "$STAMP"
    mv "$tmp/$SRC_NAME" "$SRC"
    rm -rf "$tmp"
    trap - EXIT
    printf '%s\n' "$tarball_id" >"$STAMP"
fi

# Do not let an outer make (if any) influence the sub-builds.
unset MAKEFLAGS MFLAGS MAKELEVEL MAKEOVERRIDES || true

# ---------------------------------------------------------------------------
# 3. UAPI headers (usr/include), needed by the selftests.
# ---------------------------------------------------------------------------
log "make headers_install"
make -C "$SRC" -j"$JOBS" headers_install >&2

# ---------------------------------------------------------------------------
# 4. Build only the requested kvm selftests.
#    The kvm selftest Makefile (via ../lib.mk) names its programs
#    $(OUTPUT)/<test>, OUTPUT defaulting to the kvm directory; passing OUTPUT
#    explicitly and naming those absolute paths as goals builds just the
#    wanted tests plus the libkvm objects they link against.
# ---------------------------------------------------------------------------
KVM_DIR=$(cd "$SRC/tools/testing/selftests/kvm" && pwd -P)
goals=()
for t in $TARGETS; do
    goals+=("$KVM_DIR/$t")
done
log "building in $KVM_DIR: $TARGETS"
make -C "$KVM_DIR" -j"$JOBS" OUTPUT="$KVM_DIR" "${goals[@]}" >&2

for t in $TARGETS; do
    [ -x "$KVM_DIR/$t" ] || die "build did not produce $KVM_DIR/$t"
done
log "built: $TARGETS"

# Last line on stdout: where the binaries are.
printf '%s\n' "$KVM_DIR"
