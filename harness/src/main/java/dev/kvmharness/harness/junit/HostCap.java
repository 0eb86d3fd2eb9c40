// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.harness.junit;

import dev.kvmharness.harness.Backend;
import dev.kvmharness.harness.sim.SimBackend;
import dev.kvmharness.kvm.bindings.KvmApi;
import dev.kvmharness.kvm.bindings.Uffd;
import java.util.function.BooleanSupplier;
import java.util.function.LongPredicate;
import java.util.function.Predicate;

/**
 * What {@link RequiresHostCap} can ask of a backend: the KVM capabilities and host features the ports check
 * before they use them. KVM capabilities are asked of the backend (KVM_CHECK_EXTENSION on /dev/kvm, the model's
 * answer on the simulator). Host features (userfaultfd, hugetlb pages, THP) are probed on this machine for the
 * kvm backend; the simulator simulates its host's memory and offers all of them.
 */
public enum HostCap {
    /** KVM_CAP_USER_MEMORY2: KVM_SET_USER_MEMORY_REGION2. */
    USER_MEMORY2("KVM_CAP_USER_MEMORY2", cap(KvmApi.KVM_CAP_USER_MEMORY2)),
    /** KVM_CAP_GUEST_MEMFD: KVM_CREATE_GUEST_MEMFD. */
    GUEST_MEMFD("KVM_CAP_GUEST_MEMFD", cap(KvmApi.KVM_CAP_GUEST_MEMFD)),
    /** KVM_X86_SW_PROTECTED_VM among KVM_CAP_VM_TYPES: a VM type with private (guest_memfd) memory. */
    SW_PROTECTED_VM("KVM_CAP_VM_TYPES has KVM_X86_SW_PROTECTED_VM",
            capBits(KvmApi.KVM_CAP_VM_TYPES, 1L << KvmApi.KVM_X86_SW_PROTECTED_VM)),
    /** KVM_MEMORY_ATTRIBUTE_PRIVATE among KVM_CAP_MEMORY_ATTRIBUTES: KVM_MEM_GUEST_MEMFD memslots. */
    PRIVATE_MEMORY_ATTRIBUTE("KVM_CAP_MEMORY_ATTRIBUTES has KVM_MEMORY_ATTRIBUTE_PRIVATE",
            capBits(KvmApi.KVM_CAP_MEMORY_ATTRIBUTES, Constants.KVM_MEMORY_ATTRIBUTE_PRIVATE)),
    /** KVM_CAP_BINARY_STATS_FD: the stats the harness reports. */
    BINARY_STATS_FD("KVM_CAP_BINARY_STATS_FD", cap(KvmApi.KVM_CAP_BINARY_STATS_FD)),
    /** KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2: KVM_CLEAR_DIRTY_LOG and dirty logging without initial write-protection. */
    MANUAL_DIRTY_LOG_PROTECT2("KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2", cap(KvmApi.KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2)),
    /** KVM_X86_QUIRK_SLOT_ZAP_ALL among KVM_CAP_DISABLE_QUIRKS2: the slot-zap quirk can be turned off. */
    DISABLE_SLOT_ZAP_QUIRK("KVM_CAP_DISABLE_QUIRKS2 has KVM_X86_QUIRK_SLOT_ZAP_ALL",
            capBits(KvmApi.KVM_CAP_DISABLE_QUIRKS2, KvmApi.KVM_X86_QUIRK_SLOT_ZAP_ALL)),
    /** 1 GiB guest pages (CPUID 0x80000001 EDX bit 26 as KVM reports it). */
    GB_PAGES("1 GiB guest pages: CPUID 0x80000001 EDX bit 26", b -> b.caps().gbPages()),
    /** userfaultfd() works for this process: DemandPaging in MISSING mode. */
    USERFAULTFD("userfaultfd()", host(() -> HostProbe.userfaultfdFeatures().isPresent())),
    /** UFFD_FEATURE_MINOR_SHMEM: DemandPaging in MINOR mode over shmem. */
    UFFD_MINOR_SHMEM("userfaultfd UFFD_FEATURE_MINOR_SHMEM", uffdFeature(Uffd.UFFD_FEATURE_MINOR_SHMEM)),
    /** UFFD_FEATURE_MINOR_HUGETLBFS: DemandPaging in MINOR mode over shared_hugetlb. */
    UFFD_MINOR_HUGETLBFS("userfaultfd UFFD_FEATURE_MINOR_HUGETLBFS", uffdFeature(Uffd.UFFD_FEATURE_MINOR_HUGETLBFS)),
    /** Free hugetlb pages of the default size: anonymous_hugetlb and shared_hugetlb. */
    HUGETLB("free hugetlb pages of the default size (HugePages_Free; reserve them with ci/setup-host.sh)",
            host(() -> HostProbe.freeDefaultHugepages() > 0)),
    /** Free 2 MiB hugetlb pages: anonymous_hugetlb_2mb. */
    HUGETLB_2MB("free 2 MiB hugetlb pages (/sys/kernel/mm/hugepages/hugepages-2048kB/free_hugepages)",
            host(() -> HostProbe.freeHugepages(2L << 20) > 0)),
    /** Free 1 GiB hugetlb pages: anonymous_hugetlb_1gb. */
    HUGETLB_1GB("free 1 GiB hugetlb pages (/sys/kernel/mm/hugepages/hugepages-1048576kB/free_hugepages)",
            host(() -> HostProbe.freeHugepages(1L << 30) > 0)),
    /** Transparent hugepages on ("always" or "madvise"): anonymous_thp really gets 2 MiB pages. */
    THP("transparent hugepages (/sys/kernel/mm/transparent_hugepage/enabled: always or madvise)",
            host(HostProbe::transparentHugepages)),
    /** Idle page tracking, /sys/kernel/mm/page_idle/bitmap opened read-write: HostPages' markIdle and isIdle. */
    PAGE_IDLE("idle page tracking (/sys/kernel/mm/page_idle/bitmap: CONFIG_IDLE_PAGE_TRACKING, and root)",
            b -> b.pageIdleUnavailableReason().isEmpty());

    private final String description;
    @SuppressWarnings("ImmutableEnumChecker") // lambdas over the backend and the host: no state of their own
    private final Predicate<Backend> offered;

    HostCap(String description, Predicate<Backend> offered) {
        this.description = description;
        this.offered = offered;
    }

    /** What is checked, for the skip reason. */
    public String description() {
        return description;
    }

    /** Whether {@code backend}'s host offers this capability. */
    public boolean offeredBy(Backend backend) {
        return offered.test(backend);
    }

    private static Predicate<Backend> cap(int kvmCap) {
        return b -> b.checkCap(kvmCap) > 0;
    }

    private static Predicate<Backend> capBits(int kvmCap, long bits) {
        return b -> (b.checkCap(kvmCap) & bits) == bits;
    }

    /** A feature of the host's kernel: the simulated host has it; the real one is probed. */
    private static Predicate<Backend> host(BooleanSupplier probe) {
        return b -> b instanceof SimBackend || probe.getAsBoolean();
    }

    private static Predicate<Backend> uffdFeature(long feature) {
        LongPredicate has = features -> (features & feature) == feature;
        return host(() -> HostProbe.userfaultfdFeatures().map(has::test).orElse(false));
    }

    /** Constants the bindings do not name. */
    private static final class Constants {
        /** KVM_MEMORY_ATTRIBUTE_PRIVATE (include/uapi/linux/kvm.h). */
        static final long KVM_MEMORY_ATTRIBUTE_PRIVATE = 1L << 3;
    }
}
