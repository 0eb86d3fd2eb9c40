#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Builds a Docker build context for a FROM-scratch image that runs selftests.jar: no registry is needed.
# The JRE is made with jlink from the host JDK; the shared libraries it needs are copied from the host.
#   usage: ci/container/build-context.sh OUT_DIR [JAR]
set -euo pipefail
out=${1:?usage: build-context.sh OUT_DIR [JAR]}
top=$(cd "$(dirname "$0")/../.." && pwd)
jar=${2:-$top/selftests/target/selftests.jar}
[ -f "$jar" ] || { echo "missing $jar: run 'mvn -DskipTests package' first" >&2; exit 2; }

rm -rf "$out"
mkdir -p "$out/rootfs/app" "$out/rootfs/tmp"
chmod 1777 "$out/rootfs/tmp"
# The modules the jar uses (jdeps on its dependencies): no AWT, so no X11 libraries.
jlink --add-modules java.base,java.logging,java.management,jdk.unsupported,java.xml \
  --strip-debug --no-header-files --no-man-pages --output "$out/rootfs/opt/jre"

# Every shared library the JRE's binaries load, from the host, at the same paths.
for f in "$out/rootfs/opt/jre/bin/java" $(find "$out/rootfs/opt/jre/lib" -name '*.so'); do
  ldd "$f" 2>/dev/null | grep -o '/[^ ]*' || true
done | grep -v "^$out" | sort -u | while read -r lib; do
  mkdir -p "$out/rootfs$(dirname "$lib")"
  cp -L "$lib" "$out/rootfs$lib"
done

cp "$jar" "$out/rootfs/app/selftests.jar"
# JNA's native stub, unpacked now rather than into /tmp at run time: the root is read-only and /tmp noexec.
mkdir -p "$out/rootfs/opt/jna"
unzip -p "$jar" com/sun/jna/linux-x86-64/libjnidispatch.so > "$out/rootfs/opt/jna/libjnidispatch.so"
# The same for the JNI shim of the per-page system calls, where the jar has it (kvm-native built with gcc).
mkdir -p "$out/rootfs/opt/kvmharness"
if unzip -l "$jar" dev/kvmharness/sys/libkvmharness-jni.so >/dev/null 2>&1; then
  unzip -p "$jar" dev/kvmharness/sys/libkvmharness-jni.so > "$out/rootfs/opt/kvmharness/libkvmharness-jni.so"
fi
cp "$(dirname "$0")/Dockerfile" "$out/Dockerfile"
echo "$out"
