// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.harness.junit;

import dev.kvmharness.harness.HostCaps;
import java.util.function.Predicate;

/** What {@link RequiresHostCap} can ask of a backend's {@link HostCaps}. */
public enum HostCap {
    /** KVM_CAP_USER_MEMORY2. */
    USER_MEMORY2(HostCaps::userMemory2),
    /** KVM_CAP_GUEST_MEMFD. */
    GUEST_MEMFD(HostCaps::guestMemfd),
    /** KVM_CAP_BINARY_STATS_FD. */
    BINARY_STATS_FD(HostCaps::binaryStats),
    /** 1 GiB guest pages (CPUID 0x80000001 EDX bit 26 as KVM reports it). */
    GB_PAGES(HostCaps::gbPages);

    @SuppressWarnings("ImmutableEnumChecker") // method references to HostCaps' getters: no state
    private final Predicate<HostCaps> offered;

    HostCap(Predicate<HostCaps> offered) {
        this.offered = offered;
    }

    public boolean offeredBy(HostCaps caps) {
        return offered.test(caps);
    }
}
