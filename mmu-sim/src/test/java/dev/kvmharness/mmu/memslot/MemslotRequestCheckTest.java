// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.mmu.memslot;

import static dev.kvmharness.mmu.memslot.Memslot.KVM_MEM_GUEST_MEMFD;
import static dev.kvmharness.mmu.memslot.Memslot.KVM_MEM_LOG_DIRTY_PAGES;
import static dev.kvmharness.mmu.memslot.Memslot.KVM_MEM_READONLY;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import dev.kvmharness.mmu.KvmErrno;
import dev.kvmharness.mmu.SimKvmException;
import dev.kvmharness.mmu.memslot.MemslotChange.MemslotChangeKind;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.TreeMap;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class MemslotRequestCheckTest {
    private static final long PAGE = 4096;
    private static final long HVA = 0x7f1234500000L;
    private static final long TOP = (1L << 47) - PAGE;
    private static final int GMEM_FD = 9;

    /**
     * A test VM's memslots per address space plus its guest_memfd files: the state a request is checked
     * against, updated with each accepted change the way kvm_set_memslot() would leave it.
     */
    static final class SlotTable {
        final MemslotLimits limits;
        private final Map<Integer, List<Memslot>> byAs = new TreeMap<>();
        private final Map<Integer, Long> gmemSizes = new TreeMap<>();

        SlotTable(MemslotLimits limits) {
            this.limits = limits;
        }

        List<Memslot> slots(int asId) {
            return List.copyOf(byAs.getOrDefault(asId, List.of()));
        }

        SlotTable install(Memslot s) {
            byAs.computeIfAbsent(s.asId(), k -> new ArrayList<>()).add(s);
            return this;
        }

        SlotTable guestMemfd(int fd, long size) {
            gmemSizes.put(fd, size);
            return this;
        }

        MemslotChange check(MemslotRequest req) {
            return MemslotRequestCheck.check(req, limits, this::slots,
                    fd -> gmemSizes.containsKey(fd) ? OptionalLong.of(gmemSizes.get(fd)) : OptionalLong.empty());
        }

        /** Checks and, if accepted, applies. */
        MemslotChange apply(MemslotRequest req) {
            MemslotChange c = check(req);
            if (c.old() != null) {
                byAs.get(c.old().asId()).remove(c.old());
            }
            if (c.updated() != null) {
                install(c.updated());
            }
            return c;
        }
    }

    private static SlotTable defaultVm() {
        return new SlotTable(MemslotLimits.x86Default(46));
    }

    private static SlotTable privateVm() {
        return new SlotTable(MemslotLimits.x86SwProtected(46)).guestMemfd(GMEM_FD, 64 * PAGE);
    }

    /** The failure of {@code req} on {@code vm}, which must fail with {@code errno} for a reason containing {@code why}. */
    private static SimKvmException rejects(SlotTable vm, MemslotRequest req, KvmErrno errno, String why) {
        try {
            MemslotChange c = vm.check(req);
            fail(req + " accepted as " + c + ", expected " + errno);
            return null;
        } catch (SimKvmException e) {
            assertThat(e.errno()).as("errno of %s: %s", req, e.getMessage()).isEqualTo(errno);
            assertThat(e.call()).isEqualTo(req.ioctl());
            assertThat(e.getMessage()).contains(why);
            return e;
        }
    }

    private static MemslotChangeKind kindOf(SlotTable vm, MemslotRequest req) {
        return vm.apply(req).kind();
    }

    @Nested
    class Kinds {
        @Test
        void createBuildsTheSlotFromTheRequest() {
            MemslotChange c = defaultVm().check(MemslotRequest.v1(1 << 16 | 5, KVM_MEM_LOG_DIRTY_PAGES, 0x200000,
                    16 * PAGE, HVA));
            assertThat(c.kind()).isEqualTo(MemslotChangeKind.CREATE);
            assertThat(c.old()).isNull();
            assertThat(c.updated()).isEqualTo(new Memslot(1, 5, 0x200, 16, HVA, KVM_MEM_LOG_DIRTY_PAGES, -1, 0));
        }

        @Test
        void sizeZeroDeletesTheSlotWhateverTheOtherFields() {
            SlotTable vm = defaultVm();
            Memslot s = vm.apply(MemslotRequest.v1(3, 0, 0x100000, 4 * PAGE, HVA)).updated();
            MemslotChange c = vm.check(MemslotRequest.v1(3, KVM_MEM_READONLY, 0x900000, 0, HVA + 8 * PAGE));
            assertThat(c.kind()).isEqualTo(MemslotChangeKind.DELETE);
            assertThat(c.old()).isEqualTo(s);
            assertThat(c.updated()).isNull();
        }

        @Test
        void newBaseGfnIsAMoveKeepingUaddrAndSize() {
            SlotTable vm = defaultVm();
            Memslot s = vm.apply(MemslotRequest.v1(3, KVM_MEM_LOG_DIRTY_PAGES, 0x100000, 4 * PAGE, HVA)).updated();
            MemslotChange c = vm.check(MemslotRequest.v1(3, 0, 0x800000, 4 * PAGE, HVA));
            assertThat(c.kind()).isEqualTo(MemslotChangeKind.MOVE);
            assertThat(c.old()).isEqualTo(s);
            assertThat(c.updated().baseGfn()).isEqualTo(0x800);
            assertThat(c.updated().flags()).isZero();
        }

        @Test
        void togglingDirtyLoggingInPlaceIsFlagsOnly() {
            SlotTable vm = defaultVm();
            vm.apply(MemslotRequest.v1(3, 0, 0x100000, 4 * PAGE, HVA));
            MemslotChange on = vm.apply(MemslotRequest.v1(3, KVM_MEM_LOG_DIRTY_PAGES, 0x100000, 4 * PAGE, HVA));
            assertThat(on.kind()).isEqualTo(MemslotChangeKind.FLAGS_ONLY);
            assertThat(on.updated().dirtyLogging()).isTrue();
            assertThat(kindOf(vm, MemslotRequest.v2(3, 0, 0x100000, 4 * PAGE, HVA)))
                    .isEqualTo(MemslotChangeKind.FLAGS_ONLY);
        }

        @Test
        void identicalRequestIsNone() {
            SlotTable vm = defaultVm();
            Memslot s = vm.apply(MemslotRequest.v1(3, KVM_MEM_READONLY, 0x100000, 4 * PAGE, HVA)).updated();
            MemslotChange c = vm.check(MemslotRequest.v2(3, KVM_MEM_READONLY, 0x100000, 4 * PAGE, HVA));
            assertThat(c.kind()).isEqualTo(MemslotChangeKind.NONE);
            assertThat(c.old()).isEqualTo(s);
            assertThat(c.updated()).isEqualTo(s);
        }

        @Test
        void sameIdInAnotherAddressSpaceIsAnotherSlot() {
            SlotTable vm = defaultVm();
            vm.apply(MemslotRequest.v1(3, 0, 0x100000, 4 * PAGE, HVA));
            assertThat(kindOf(vm, MemslotRequest.v1(1 << 16 | 3, 0, 0x100000, 4 * PAGE, HVA + PAGE)))
                    .isEqualTo(MemslotChangeKind.CREATE);
            assertThat(kindOf(vm, MemslotRequest.v1(1 << 16 | 3, 0, 0, 0, 0))).isEqualTo(MemslotChangeKind.DELETE);
            assertThat(vm.slots(0)).hasSize(1);
        }
    }

    @Nested
    class Flags {
        @ParameterizedTest
        @ValueSource(ints = {2, 3, 4, 5, 8, 16, 31})
        void v1TakesOnlyDirtyLogAndReadonly(int bit) {
            rejects(privateVm(), MemslotRequest.v1(0, 1 << bit, 0, PAGE, HVA), KvmErrno.EINVAL, "v1 ioctl");
        }

        @ParameterizedTest
        @ValueSource(ints = {3, 4, 15, 16, 30, 31})
        void unknownFlagBitsAreInvalidInV2(int bit) {
            rejects(privateVm(), MemslotRequest.v2(0, 1 << bit, 0, PAGE, HVA), KvmErrno.EINVAL, "not valid");
        }

        @Test
        void readonlyNeedsArchSupport() {
            MemslotLimits noRo = new MemslotLimits(32764, 2, (1L << 34) - 1, false, false, false, false);
            rejects(new SlotTable(noRo), MemslotRequest.v1(0, KVM_MEM_READONLY, 0, PAGE, HVA), KvmErrno.EINVAL,
                    "not valid");
            assertThat(kindOf(defaultVm(), MemslotRequest.v1(0, KVM_MEM_READONLY, 0, PAGE, HVA)))
                    .isEqualTo(MemslotChangeKind.CREATE);
        }

        @Test
        void guestMemfdOnlyWhereTheVmTakesIt() {
            rejects(defaultVm(), MemslotRequest.v2(0, KVM_MEM_GUEST_MEMFD, 0, PAGE, HVA, 0, GMEM_FD),
                    KvmErrno.EINVAL, "not valid");
            MemslotChange c = privateVm().check(MemslotRequest.v2(0, KVM_MEM_GUEST_MEMFD, 0, PAGE, HVA, PAGE, GMEM_FD));
            assertThat(c.kind()).isEqualTo(MemslotChangeKind.CREATE);
            assertThat(c.updated().isPrivate()).isTrue();
            assertThat(c.updated().guestMemfd()).isEqualTo(GMEM_FD);
            assertThat(c.updated().guestMemfdOffset()).isEqualTo(PAGE);
        }

        @Test
        void guestMemfdOnANonPrivateVmThatSupportsIt() {
            // Newer kernels accept guest_memfd on ordinary VMs: KVM_CAP_GUEST_MEMFD says so per VM.
            MemslotLimits l = new MemslotLimits(32764, 2, (1L << 34) - 1, true, false, true, false);
            SlotTable vm = new SlotTable(l).guestMemfd(GMEM_FD, PAGE);
            assertThat(kindOf(vm, MemslotRequest.v2(0, KVM_MEM_GUEST_MEMFD, 0, PAGE, HVA, 0, GMEM_FD)))
                    .isEqualTo(MemslotChangeKind.CREATE);
        }

        @Test
        void guestMemfdExcludesDirtyLoggingAndReadonly() {
            rejects(privateVm(), MemslotRequest.v2(0, KVM_MEM_GUEST_MEMFD | KVM_MEM_LOG_DIRTY_PAGES, 0, PAGE, HVA, 0,
                    GMEM_FD), KvmErrno.EINVAL, "flags 0x1 not valid");
            rejects(privateVm(), MemslotRequest.v2(0, KVM_MEM_GUEST_MEMFD | KVM_MEM_READONLY, 0, PAGE, HVA, 0,
                    GMEM_FD), KvmErrno.EINVAL, "flags 0x2 not valid");
            // Without guest_memfd a private VM logs dirty pages like any other.
            assertThat(kindOf(privateVm(), MemslotRequest.v2(0, KVM_MEM_LOG_DIRTY_PAGES | KVM_MEM_READONLY, 0, PAGE,
                    HVA))).isEqualTo(MemslotChangeKind.CREATE);
        }
    }

    @Nested
    class SlotNumbers {
        @Test
        void lastUserSlotIsUsableAndTheNextIsNot() {
            assertThat(kindOf(defaultVm(), MemslotRequest.v1(32763, 0, 0, PAGE, HVA))).isEqualTo(MemslotChangeKind.CREATE);
            rejects(defaultVm(), MemslotRequest.v1(32764, 0, 0, PAGE, HVA), KvmErrno.EINVAL, "KVM_USER_MEM_SLOTS");
            rejects(defaultVm(), MemslotRequest.v1(0xffff, 0, 0, PAGE, HVA), KvmErrno.EINVAL, "KVM_USER_MEM_SLOTS");
            // Also for a delete: the id check comes before the slot lookup.
            rejects(defaultVm(), MemslotRequest.v1(32766, 0, 0, 0, HVA), KvmErrno.EINVAL, "KVM_USER_MEM_SLOTS");
        }

        @Test
        void addressSpaceMustExist() {
            assertThat(kindOf(defaultVm(), MemslotRequest.v1(1 << 16, 0, 0, PAGE, HVA))).isEqualTo(MemslotChangeKind.CREATE);
            rejects(defaultVm(), MemslotRequest.v1(2 << 16, 0, 0, PAGE, HVA), KvmErrno.EINVAL, "address spaces");
            rejects(defaultVm(), MemslotRequest.v1(0x80000000, 0, 0, PAGE, HVA), KvmErrno.EINVAL, "address spaces");
            rejects(privateVm(), MemslotRequest.v1(1 << 16, 0, 0, PAGE, HVA), KvmErrno.EINVAL, "address spaces");
        }
    }

    @Nested
    class Alignment {
        @Test
        void sizeGpaAndUaddrMustBePageAligned() {
            rejects(defaultVm(), MemslotRequest.v1(0, 0, 0, PAGE + 1, HVA), KvmErrno.EINVAL, "memory_size");
            rejects(defaultVm(), MemslotRequest.v1(0, 0, 0x800, PAGE, HVA), KvmErrno.EINVAL, "guest_phys_addr");
            rejects(defaultVm(), MemslotRequest.v1(0, 0, 0, PAGE, HVA + 8), KvmErrno.EINVAL, "userspace_addr");
        }

        @Test
        void deleteStillChecksTheAddresses() {
            SlotTable vm = defaultVm();
            vm.apply(MemslotRequest.v1(0, 0, 0, PAGE, HVA));
            rejects(vm, MemslotRequest.v1(0, 0, 0x10, 0, HVA), KvmErrno.EINVAL, "guest_phys_addr");
            rejects(vm, MemslotRequest.v1(0, 0, 0, 0, HVA | 1), KvmErrno.EINVAL, "userspace_addr");
            rejects(vm, MemslotRequest.v1(0, 0, 0, 0, TOP + PAGE), KvmErrno.EINVAL, "access_ok");
            assertThat(kindOf(vm, MemslotRequest.v1(0, 0, 0, 0, TOP))).isEqualTo(MemslotChangeKind.DELETE);
        }

        @Test
        void guestMemfdOffsetMustBeAlignedAndNotWrap() {
            rejects(privateVm(), MemslotRequest.v2(0, KVM_MEM_GUEST_MEMFD, 0, PAGE, HVA, 0x10, GMEM_FD),
                    KvmErrno.EINVAL, "guest_memfd_offset");
            rejects(privateVm(), MemslotRequest.v2(0, KVM_MEM_GUEST_MEMFD, 0, 2 * PAGE, HVA, -PAGE, GMEM_FD),
                    KvmErrno.EINVAL, "guest_memfd_offset");
            // Without the flag the offset is not looked at.
            assertThat(kindOf(privateVm(), MemslotRequest.v2(0, 0, 0, PAGE, HVA, 0x10, GMEM_FD)))
                    .isEqualTo(MemslotChangeKind.CREATE);
        }
    }

    @Nested
    class UserAddress {
        @Test
        void rangeMayEndExactlyAtUserPtrMax() {
            assertThat(kindOf(defaultVm(), MemslotRequest.v1(0, 0, 0, 2 * PAGE, TOP - 2 * PAGE)))
                    .isEqualTo(MemslotChangeKind.CREATE);
            rejects(defaultVm(), MemslotRequest.v1(0, 0, 0, 2 * PAGE, TOP - PAGE), KvmErrno.EINVAL, "access_ok");
        }

        @Test
        void mappedOrNotIsNotChecked() {
            // access_ok() looks at the numbers only: page 1 of the address space is as good as any.
            assertThat(kindOf(defaultVm(), MemslotRequest.v1(0, 0, 0, PAGE, PAGE))).isEqualTo(MemslotChangeKind.CREATE);
            assertThat(kindOf(defaultVm(), MemslotRequest.v1(0, 0, 0, PAGE, 0))).isEqualTo(MemslotChangeKind.CREATE);
        }

        @Test
        void taggedKernelAndWrappingAddressesFail() {
            rejects(defaultVm(), MemslotRequest.v1(0, 0, 0, PAGE, HVA | 1L << 57), KvmErrno.EINVAL, "access_ok");
            rejects(defaultVm(), MemslotRequest.v1(0, 0, 0, PAGE, HVA | 1L << 62), KvmErrno.EINVAL, "access_ok");
            rejects(defaultVm(), MemslotRequest.v1(0, 0, 0, PAGE, 0xffff800000000000L), KvmErrno.EINVAL, "access_ok");
            rejects(defaultVm(), MemslotRequest.v1(0, 0, 0, 1L << 20, -PAGE), KvmErrno.EINVAL, "access_ok");
        }

        @Test
        void fiveLevelPagingWidensTheUserRange() {
            SlotTable vm = new SlotTable(MemslotLimits.x86Default(46).withUserPtrMax(MemslotLimits.USER_PTR_MAX_5LEVEL));
            assertThat(kindOf(vm, MemslotRequest.v1(0, 0, 0, PAGE, 1L << 50))).isEqualTo(MemslotChangeKind.CREATE);
            rejects(vm, MemslotRequest.v1(1, 0, 0x1000000, PAGE, 1L << 56), KvmErrno.EINVAL, "access_ok");
        }
    }

    @Nested
    class Sizes {
        @Test
        void gpaPlusSizeMustNotWrap() {
            rejects(defaultVm(), MemslotRequest.v1(0, 0, -PAGE, 2 * PAGE, 0), KvmErrno.EINVAL, "wraps");
        }

        @Test
        void atMostKvmMemMaxNrPages() {
            long max = MemslotLimits.KVM_MEM_MAX_NR_PAGES;
            rejects(defaultVm(), MemslotRequest.v1(0, 0, 0, (max + 1) * PAGE, 0), KvmErrno.EINVAL, "KVM_MEM_MAX_NR_PAGES");
            MemslotChange c = defaultVm().check(MemslotRequest.v1(0, 0, 0, max * PAGE, 0));
            assertThat(c.updated().npages()).isEqualTo(max);
        }

        @Test
        void hugeSizesFailOnTheUserRangeFirst() {
            rejects(defaultVm(), MemslotRequest.v1(0, 0, 0, 1L << 62, HVA), KvmErrno.EINVAL, "access_ok");
            rejects(defaultVm(), MemslotRequest.v1(0, 0, 0, -PAGE, PAGE), KvmErrno.EINVAL, "access_ok");
        }

        @Test
        void totalPagesMustFitInUnsignedLong() {
            // Unreachable with 31-bit slots on a 64-bit host, but the check is there; feed it fabricated slots.
            SlotTable vm = defaultVm()
                    .install(new Memslot(0, 1, 0, Long.MAX_VALUE, 0, 0, -1, 0))
                    .install(new Memslot(1, 1, 0, Long.MAX_VALUE, 0, 0, -1, 0));
            rejects(vm, MemslotRequest.v1(1 << 16 | 2, 0, 0, 2 * PAGE, HVA), KvmErrno.EINVAL, "overflow");
            rejects(vm, MemslotRequest.v1(1 << 16 | 2, 0, 0, PAGE, HVA), KvmErrno.EEXIST, "overlaps");
        }
    }

    @Nested
    class Deletes {
        @Test
        void deletingAnAbsentSlotIsInvalid() {
            SlotTable vm = defaultVm();
            rejects(vm, MemslotRequest.v1(4, 0, 0, 0, 0), KvmErrno.EINVAL, "delete of absent");
            vm.apply(MemslotRequest.v1(4, 0, 0, PAGE, HVA));
            rejects(vm, MemslotRequest.v1(1 << 16 | 4, 0, 0, 0, 0), KvmErrno.EINVAL, "delete of absent");
            vm.apply(MemslotRequest.v1(4, 0, 0, 0, 0));
            rejects(vm, MemslotRequest.v1(4, 0, 0, 0, 0), KvmErrno.EINVAL, "delete of absent");
        }

        @Test
        void privateSlotsCanBeDeleted() {
            SlotTable vm = privateVm();
            vm.apply(MemslotRequest.v2(0, KVM_MEM_GUEST_MEMFD, 0, PAGE, HVA, 0, GMEM_FD));
            assertThat(kindOf(vm, MemslotRequest.v2(0, 0, 0, 0, 0))).isEqualTo(MemslotChangeKind.DELETE);
        }
    }

    @Nested
    class Modify {
        private final SlotTable vm = defaultVm();

        Modify() {
            vm.apply(MemslotRequest.v1(1, KVM_MEM_LOG_DIRTY_PAGES, 0x100000, 4 * PAGE, HVA));
        }

        @Test
        void uaddrAndSizeAreFixed() {
            rejects(vm, MemslotRequest.v1(1, KVM_MEM_LOG_DIRTY_PAGES, 0x100000, 4 * PAGE, HVA + PAGE), KvmErrno.EINVAL,
                    "may change only");
            rejects(vm, MemslotRequest.v1(1, KVM_MEM_LOG_DIRTY_PAGES, 0x100000, 8 * PAGE, HVA), KvmErrno.EINVAL,
                    "may change only");
            rejects(vm, MemslotRequest.v1(1, 0, 0x900000, 3 * PAGE, HVA), KvmErrno.EINVAL, "may change only");
        }

        @Test
        void readonlyCannotBeToggled() {
            rejects(vm, MemslotRequest.v1(1, KVM_MEM_LOG_DIRTY_PAGES | KVM_MEM_READONLY, 0x100000, 4 * PAGE, HVA),
                    KvmErrno.EINVAL, "may change only");
            SlotTable ro = defaultVm();
            ro.apply(MemslotRequest.v1(1, KVM_MEM_READONLY, 0, PAGE, HVA));
            rejects(ro, MemslotRequest.v1(1, 0, 0, PAGE, HVA), KvmErrno.EINVAL, "may change only");
        }

        @Test
        void privateSlotsAreImmutable() {
            SlotTable p = privateVm();
            p.apply(MemslotRequest.v2(1, KVM_MEM_GUEST_MEMFD, 0, PAGE, HVA, 0, GMEM_FD));
            rejects(p, MemslotRequest.v2(1, KVM_MEM_GUEST_MEMFD, 0, PAGE, HVA, 0, GMEM_FD), KvmErrno.EINVAL, "immutable");
            rejects(p, MemslotRequest.v2(1, KVM_MEM_GUEST_MEMFD, 0x10000, PAGE, HVA, 0, GMEM_FD), KvmErrno.EINVAL,
                    "immutable");
            rejects(p, MemslotRequest.v2(1, 0, 0, PAGE, HVA), KvmErrno.EINVAL, "may change only");
            rejects(p, MemslotRequest.v2(1, 0, 0x10000, PAGE, HVA), KvmErrno.EINVAL, "may change only");
        }

        @Test
        void guestMemfdCannotBeAddedToAnExistingSlot() {
            SlotTable p = privateVm();
            p.apply(MemslotRequest.v2(1, 0, 0, PAGE, HVA));
            rejects(p, MemslotRequest.v2(1, KVM_MEM_GUEST_MEMFD, 0, PAGE, HVA, 0, GMEM_FD), KvmErrno.EINVAL, "immutable");
        }
    }

    @Nested
    class Overlap {
        private final SlotTable vm = defaultVm();

        Overlap() {
            vm.apply(MemslotRequest.v1(1, 0, 0x100000, 16 * PAGE, HVA));
            vm.apply(MemslotRequest.v1(2, 0, 0x200000, 16 * PAGE, HVA));
        }

        @Test
        void createOverlappingAnotherSlotIsEexist() {
            rejects(vm, MemslotRequest.v1(3, 0, 0x10f000, PAGE, HVA), KvmErrno.EEXIST, "overlaps memslot 0:1");
            rejects(vm, MemslotRequest.v1(3, 0, 0x0ff000, 2 * PAGE, HVA), KvmErrno.EEXIST, "overlaps memslot 0:1");
            rejects(vm, MemslotRequest.v1(3, 0, 0, 1L << 30, HVA - (1L << 30)), KvmErrno.EEXIST, "overlaps");
        }

        @Test
        void adjacentIsFine() {
            assertThat(kindOf(vm, MemslotRequest.v1(3, 0, 0x110000, PAGE, HVA))).isEqualTo(MemslotChangeKind.CREATE);
            assertThat(kindOf(vm, MemslotRequest.v1(4, 0, 0x0ff000, PAGE, HVA))).isEqualTo(MemslotChangeKind.CREATE);
        }

        @Test
        void otherAddressSpaceDoesNotCount() {
            assertThat(kindOf(vm, MemslotRequest.v1(1 << 16 | 3, 0, 0x100000, PAGE, HVA)))
                    .isEqualTo(MemslotChangeKind.CREATE);
        }

        @Test
        void moveOntoAnotherSlotIsEexistOntoItselfIsNot() {
            rejects(vm, MemslotRequest.v1(1, 0, 0x1f8000, 16 * PAGE, HVA), KvmErrno.EEXIST, "overlaps memslot 0:2");
            assertThat(kindOf(vm, MemslotRequest.v1(1, 0, 0x108000, 16 * PAGE, HVA))).isEqualTo(MemslotChangeKind.MOVE);
        }

        @Test
        void overlapDecidesBeforeTheMaxGfnCheck() {
            SlotTable small = new SlotTable(MemslotLimits.x86Default(32));
            small.apply(MemslotRequest.v1(1, 0, 0xfffff000L, PAGE, HVA));
            rejects(small, MemslotRequest.v1(2, 0, 0xfffff000L, 2 * PAGE, HVA), KvmErrno.EEXIST, "overlaps");
        }

        @Test
        void invalidArgumentsDecideBeforeTheOverlap() {
            rejects(vm, MemslotRequest.v1(3, 4, 0x100000, PAGE, HVA), KvmErrno.EINVAL, "v1 ioctl");
            rejects(vm, MemslotRequest.v1(3, 0, 0x100000, PAGE, HVA + 1), KvmErrno.EINVAL, "userspace_addr");
            rejects(vm, MemslotRequest.v1(1, 0, 0x200000, 8 * PAGE, HVA), KvmErrno.EINVAL, "may change only");
        }
    }

    @Nested
    class MaxGfn {
        private final SlotTable vm = new SlotTable(MemslotLimits.x86Default(36));
        private final long limit = 1L << 36;

        @Test
        void lastPageMayBeTheMaxGfn() {
            assertThat(vm.check(MemslotRequest.v1(0, 0, limit - 4 * PAGE, 4 * PAGE, HVA)).kind())
                    .isEqualTo(MemslotChangeKind.CREATE);
            rejects(vm, MemslotRequest.v1(1, 0, limit - 4 * PAGE, 5 * PAGE, HVA), KvmErrno.EINVAL, "max gfn");
            rejects(vm, MemslotRequest.v1(1, 0, limit, PAGE, HVA), KvmErrno.EINVAL, "max gfn");
        }

        @Test
        void movesAreCheckedFlagChangesAndDeletesAreNot() {
            vm.apply(MemslotRequest.v1(0, 0, limit - PAGE, PAGE, HVA));
            rejects(vm, MemslotRequest.v1(0, 0, limit, PAGE, HVA), KvmErrno.EINVAL, "max gfn");
            assertThat(kindOf(vm, MemslotRequest.v1(0, KVM_MEM_LOG_DIRTY_PAGES, limit - PAGE, PAGE, HVA)))
                    .isEqualTo(MemslotChangeKind.FLAGS_ONLY);
            assertThat(kindOf(vm, MemslotRequest.v1(0, 0, limit + PAGE, 0, HVA))).isEqualTo(MemslotChangeKind.DELETE);
        }

        @Test
        void shadowPagingAllowsFiftyTwoBits() {
            SlotTable shadow = new SlotTable(MemslotLimits.x86Default(MemslotLimits.SHADOW_PAGING_PHYS_BITS));
            assertThat(kindOf(shadow, MemslotRequest.v1(0, 0, (1L << 52) - PAGE, PAGE, HVA)))
                    .isEqualTo(MemslotChangeKind.CREATE);
            rejects(shadow, MemslotRequest.v1(1, 0, 1L << 52, PAGE, HVA), KvmErrno.EINVAL, "max gfn");
        }
    }

    @Test
    void externalPageTrackerForbidsMovesOnly() {
        SlotTable vm = new SlotTable(MemslotLimits.x86Default(46).withExternalPageTracker(true));
        vm.apply(MemslotRequest.v1(0, 0, 0, PAGE, HVA));
        rejects(vm, MemslotRequest.v1(0, 0, PAGE, PAGE, HVA), KvmErrno.EINVAL, "external page tracker");
        assertThat(kindOf(vm, MemslotRequest.v1(0, KVM_MEM_LOG_DIRTY_PAGES, 0, PAGE, HVA)))
                .isEqualTo(MemslotChangeKind.FLAGS_ONLY);
        assertThat(kindOf(vm, MemslotRequest.v1(0, 0, 0, 0, HVA))).isEqualTo(MemslotChangeKind.DELETE);
    }

    @Nested
    class GuestMemfdBind {
        private final SlotTable vm = privateVm();

        @Test
        void fdMustBeAGuestMemfdOfThisVm() {
            rejects(vm, MemslotRequest.v2(0, KVM_MEM_GUEST_MEMFD, 0, PAGE, HVA, 0, 3), KvmErrno.EINVAL,
                    "not a guest_memfd");
            rejects(new SlotTable(MemslotLimits.x86SwProtected(46)),
                    MemslotRequest.v2(0, KVM_MEM_GUEST_MEMFD, 0, PAGE, HVA, 0, GMEM_FD), KvmErrno.EINVAL,
                    "not a guest_memfd");
        }

        @Test
        void slotMustFitInTheFile() {
            assertThat(kindOf(vm, MemslotRequest.v2(0, KVM_MEM_GUEST_MEMFD, 0, 4 * PAGE, HVA, 60 * PAGE, GMEM_FD)))
                    .isEqualTo(MemslotChangeKind.CREATE);
            rejects(vm, MemslotRequest.v2(1, KVM_MEM_GUEST_MEMFD, 0x100000, 2 * PAGE, HVA, 63 * PAGE, GMEM_FD),
                    KvmErrno.EINVAL, "outside the file");
            rejects(vm, MemslotRequest.v2(1, KVM_MEM_GUEST_MEMFD, 0x100000, PAGE, HVA, 64 * PAGE, GMEM_FD),
                    KvmErrno.EINVAL, "outside the file");
        }

        @Test
        void filePagesBindToOneSlotOnly() {
            vm.apply(MemslotRequest.v2(0, KVM_MEM_GUEST_MEMFD, 0, 4 * PAGE, HVA, 8 * PAGE, GMEM_FD));
            rejects(vm, MemslotRequest.v2(1, KVM_MEM_GUEST_MEMFD, 0x100000, 4 * PAGE, HVA, 11 * PAGE, GMEM_FD),
                    KvmErrno.EINVAL, "already bound");
            rejects(vm, MemslotRequest.v2(1, KVM_MEM_GUEST_MEMFD, 0x100000, 4 * PAGE, HVA, 5 * PAGE, GMEM_FD),
                    KvmErrno.EINVAL, "already bound");
            assertThat(kindOf(vm, MemslotRequest.v2(1, KVM_MEM_GUEST_MEMFD, 0x100000, 4 * PAGE, HVA, 12 * PAGE,
                    GMEM_FD))).isEqualTo(MemslotChangeKind.CREATE);
            vm.apply(MemslotRequest.v2(0, 0, 0, 0, 0));
            assertThat(kindOf(vm, MemslotRequest.v2(2, KVM_MEM_GUEST_MEMFD, 0x200000, 4 * PAGE, HVA, 8 * PAGE,
                    GMEM_FD))).isEqualTo(MemslotChangeKind.CREATE);
        }

        @Test
        void bindingsOfOtherFilesDoNotCount() {
            vm.guestMemfd(GMEM_FD + 1, 64 * PAGE);
            vm.apply(MemslotRequest.v2(0, KVM_MEM_GUEST_MEMFD, 0, 4 * PAGE, HVA, 0, GMEM_FD));
            assertThat(kindOf(vm, MemslotRequest.v2(1, KVM_MEM_GUEST_MEMFD, 0x100000, 4 * PAGE, HVA, 0, GMEM_FD + 1)))
                    .isEqualTo(MemslotChangeKind.CREATE);
        }

        @Test
        void overlappingGfnsStillDecideFirst() {
            vm.apply(MemslotRequest.v2(0, KVM_MEM_GUEST_MEMFD, 0, 4 * PAGE, HVA, 0, GMEM_FD));
            rejects(vm, MemslotRequest.v2(1, KVM_MEM_GUEST_MEMFD, 0, 4 * PAGE, HVA, 0, GMEM_FD), KvmErrno.EEXIST,
                    "overlaps");
        }

        @Test
        void bindComesBeforeTheMaxGfnCheck() {
            SlotTable small = new SlotTable(MemslotLimits.x86SwProtected(32));
            rejects(small, MemslotRequest.v2(0, KVM_MEM_GUEST_MEMFD, 1L << 32, PAGE, HVA, 0, GMEM_FD), KvmErrno.EINVAL,
                    "not a guest_memfd");
        }

        @Test
        void bindCheckStandsAlone() {
            Memslot s = new Memslot(0, 0, 0, 4, HVA, KVM_MEM_GUEST_MEMFD, GMEM_FD, 4 * PAGE);
            Memslot bound = new Memslot(0, 1, 0x100, 2, HVA, KVM_MEM_GUEST_MEMFD, GMEM_FD, 7 * PAGE);
            MemslotRequestCheck.checkGmemBind(s, OptionalLong.of(8 * PAGE), List.of());
            try {
                MemslotRequestCheck.checkGmemBind(s, OptionalLong.of(8 * PAGE), List.of(bound));
                fail("binding over file page 7 accepted");
            } catch (SimKvmException e) {
                assertThat(e.errno()).isEqualTo(KvmErrno.EINVAL);
                assertThat(e.call()).isEqualTo("KVM_SET_USER_MEMORY_REGION2");
            }
        }
    }

    @Test
    void accessOkComparesTheEndOnly() {
        assertThat(MemslotRequestCheck.accessOk(TOP, 0, TOP)).isTrue();
        assertThat(MemslotRequestCheck.accessOk(TOP - PAGE, PAGE, TOP)).isTrue();
        assertThat(MemslotRequestCheck.accessOk(TOP, PAGE, TOP)).isFalse();
        assertThat(MemslotRequestCheck.accessOk(PAGE, -PAGE, TOP)).isFalse();
        assertThat(MemslotRequestCheck.accessOk(-PAGE, 2 * PAGE, TOP)).isFalse();
    }
}
