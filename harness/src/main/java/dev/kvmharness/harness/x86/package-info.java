// SPDX-License-Identifier: GPL-2.0-only
/**
 * x86-64 for the kvm backend: a small encoder for the instructions the compiler emits, the IR-to-x86
 * compiler with its fixed register map and ucall ABI (out dx, eax to port 0x1000), and the 4/5-level guest
 * page-table builder (the selftests' __virt_pg_map).
 */
package dev.kvmharness.harness.x86;
