// SPDX-License-Identifier: GPL-2.0-only
/**
 * lib/memstress.c: the VM layout, guest loop and vCPU threads that demand_paging_test (and later the
 * dirty-log and access-tracking tests) are built on.
 */
package dev.kvmharness.harness.memstress;
