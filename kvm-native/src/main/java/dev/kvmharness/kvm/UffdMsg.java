// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.kvm;

import dev.kvmharness.kvm.bindings.Uffd;

/** The page-fault part of a struct uffd_msg. */
public record UffdMsg(int event, long flags, long address, int ptid) {
    public boolean isPagefault() {
        return event == Uffd.UFFD_EVENT_PAGEFAULT;
    }

    public boolean isWrite() {
        return (flags & Uffd.UFFD_PAGEFAULT_FLAG_WRITE) != 0;
    }

    public boolean isMinor() {
        return (flags & Uffd.UFFD_PAGEFAULT_FLAG_MINOR) != 0;
    }
}
