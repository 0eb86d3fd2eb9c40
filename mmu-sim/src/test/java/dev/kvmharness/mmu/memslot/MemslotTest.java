// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.mmu.memslot;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.kvmharness.mmu.memslot.MemslotChange.MemslotChangeKind;
import org.junit.jupiter.api.Test;

class MemslotTest {
    private final Memslot slot = new Memslot(1, 7, 0x100, 0x10, 0x7f0000000000L, Memslot.KVM_MEM_LOG_DIRTY_PAGES,
            -1, 0);

    @Test
    void rangeAndTranslation() {
        assertThat(slot.endGfn()).isEqualTo(0x110);
        assertThat(slot.contains(0xff)).isFalse();
        assertThat(slot.contains(0x100)).isTrue();
        assertThat(slot.contains(0x10f)).isTrue();
        assertThat(slot.contains(0x110)).isFalse();
        assertThat(slot.gfnToHva(0x100)).isEqualTo(0x7f0000000000L);
        assertThat(slot.gfnToHva(0x10f)).isEqualTo(0x7f0000000000L + 0xf000);
        assertThatThrownBy(() -> slot.gfnToHva(0x110)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void userSlotPutsAddressSpaceInTheHighHalf() {
        assertThat(slot.userSlot()).isEqualTo(0x10007);
        assertThat(new Memslot(0, 32763, 0, 1, 0, 0, -1, 0).userSlot()).isEqualTo(32763);
    }

    @Test
    void flagAccessors() {
        assertThat(slot.dirtyLogging()).isTrue();
        assertThat(slot.readOnly()).isFalse();
        assertThat(slot.isPrivate()).isFalse();
        Memslot ro = new Memslot(0, 0, 0, 1, 0, Memslot.KVM_MEM_READONLY, -1, 0);
        assertThat(ro.readOnly()).isTrue();
        assertThat(ro.dirtyLogging()).isFalse();
        Memslot priv = new Memslot(0, 0, 0, 1, 0, Memslot.KVM_MEM_GUEST_MEMFD, 5, 0x2000);
        assertThat(priv.isPrivate()).isTrue();
        assertThat(priv.readOnly()).isFalse();
    }

    @Test
    void emptyOrWrappingSlotsAreRejected() {
        assertThatThrownBy(() -> new Memslot(0, 0, 0, 0, 0, 0, -1, 0)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new Memslot(0, 0, Long.MAX_VALUE, 2, 0, 0, -1, 0))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new Memslot(0, 0x10000, 0, 1, 0, 0, -1, 0))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void requestSplitsSlotLikeTheKernel() {
        MemslotRequest r = MemslotRequest.v1(0xffff0003, 0, 0, 0, 0);
        assertThat(r.asId()).isEqualTo(0xffff);
        assertThat(r.id()).isEqualTo(3);
        assertThat(r.ioctl()).isEqualTo("KVM_SET_USER_MEMORY_REGION");
        assertThat(MemslotRequest.v2(1, 0, 0, 0, 0).ioctl()).isEqualTo("KVM_SET_USER_MEMORY_REGION2");
        assertThatThrownBy(() -> new MemslotRequest(false, 0, 0, 0, 0, 0, 0, 3))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void changeShapeFollowsKind() {
        assertThatThrownBy(() -> new MemslotChange(MemslotChangeKind.CREATE, slot, slot))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new MemslotChange(MemslotChangeKind.DELETE, slot, slot))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new MemslotChange(MemslotChangeKind.MOVE, null, slot))
                .isInstanceOf(IllegalArgumentException.class);
        assertThat(new MemslotChange(MemslotChangeKind.DELETE, slot, null).updated()).isNull();
    }

    @Test
    void limitsFromPhysBits() {
        assertThat(MemslotLimits.x86Default(46).maxGfn()).isEqualTo((1L << 34) - 1);
        assertThat(MemslotLimits.x86Default(MemslotLimits.SHADOW_PAGING_PHYS_BITS).maxGfn()).isEqualTo((1L << 40) - 1);
        MemslotLimits d = MemslotLimits.x86Default(39);
        assertThat(d.userMemSlots()).isEqualTo(32764);
        assertThat(d.addressSpaces()).isEqualTo(2);
        assertThat(d.readonlySupported()).isTrue();
        assertThat(d.privateMemVm()).isFalse();
        assertThat(d.guestMemfdSupported()).isFalse();
        assertThat(d.userPtrMax()).isEqualTo((1L << 47) - 4096);
        MemslotLimits p = MemslotLimits.x86SwProtected(39);
        assertThat(p.addressSpaces()).isEqualTo(1);
        assertThat(p.privateMemVm()).isTrue();
        assertThat(p.guestMemfdSupported()).isTrue();
        assertThatThrownBy(() -> MemslotLimits.x86Default(12)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new MemslotLimits(32764, 1, 0, true, true, false, false))
                .isInstanceOf(IllegalArgumentException.class);
    }
}
