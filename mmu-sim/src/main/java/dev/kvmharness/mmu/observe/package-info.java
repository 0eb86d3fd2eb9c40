// SPDX-License-Identifier: GPL-2.0-only
/**
 * The model's side of its checkers: {@link dev.kvmharness.mmu.observe.MmuObserver}, the events the MMU reports
 * (a translation used, a flush owed or issued, a promise point reached). A leaf package: it imports only
 * {@code policy.FlushSite}, so every model package may report to it and the checkers (package {@code oracle})
 * stay outside the model. {@code ModelLayeringTest} keeps it that way.
 */
package dev.kvmharness.mmu.observe;
