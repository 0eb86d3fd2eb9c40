// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.harness;

/**
 * The host properties a test adapts to, as read from KVM_CHECK_EXTENSION, KVM_GET_SUPPORTED_CPUID and the host
 * CPU.
 *
 * @param maxVcpus KVM_CAP_MAX_VCPUS
 * @param nrMemslots KVM_CAP_NR_MEMSLOTS
 * @param paBits the guest's physical address width (CPUID 0x80000008 EAX[7:0] as KVM reports it)
 * @param gpaLimit one past the highest usable guest physical address (vm_compute_max_gfn(), which also
 *     keeps clear of AMD's HyperTransport hole)
 * @param gbPages 1 GiB guest pages offered (CPUID 0x80000001 EDX bit 26 as KVM reports it)
 * @param userMemory2 KVM_CAP_USER_MEMORY2
 * @param guestMemfd KVM_CAP_GUEST_MEMFD
 * @param binaryStats KVM_CAP_BINARY_STATS_FD
 */
public record HostCaps(int maxVcpus, int nrMemslots, int paBits, long gpaLimit, boolean gbPages,
                       boolean userMemory2, boolean guestMemfd, boolean binaryStats) {
    /** vm->max_gfn for guest pages of {@code pageSize} bytes. */
    public long maxGfn(long pageSize) {
        return gpaLimit / pageSize - 1;
    }
}
