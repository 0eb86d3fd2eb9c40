// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.harness;

/**
 * The host properties a test adapts to, as read from KVM_CHECK_EXTENSION and KVM_GET_SUPPORTED_CPUID.
 *
 * @param maxVcpus KVM_CAP_MAX_VCPUS
 * @param nrMemslots KVM_CAP_NR_MEMSLOTS
 * @param guestPhysBits guest MAXPHYADDR (CPUID 0x80000008 EAX[7:0])
 * @param gbPages 1 GiB guest pages offered (CPUID 0x80000001 EDX bit 26)
 * @param userMemory2 KVM_CAP_USER_MEMORY2
 * @param guestMemfd KVM_CAP_GUEST_MEMFD
 * @param binaryStats KVM_CAP_BINARY_STATS_FD
 */
public record HostCaps(int maxVcpus, int nrMemslots, int guestPhysBits, boolean gbPages, boolean userMemory2,
                       boolean guestMemfd, boolean binaryStats) {
    /** The largest guest frame number (vm_compute_max_gfn for a non-AMD host). */
    public long maxGfn(long pageSize) {
        return (1L << guestPhysBits) / pageSize - 1;
    }
}
