// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.kvm;

import com.sun.jna.Function;
import com.sun.jna.Memory;
import com.sun.jna.Pointer;
import dev.kvmharness.sys.LibC;
import dev.kvmharness.sys.Sys;
import dev.kvmharness.sys.SyscallException;
import com.sun.jna.LastErrorException;

/**
 * Kicks a thread out of KVM_RUN: a signal whose handler does nothing makes the ioctl return EINTR, as
 * kvm_vcpu_kick()'s userspace counterparts do in VMMs. A handler must exist (with the default action the
 * signal would kill the process, and an ignored signal does not interrupt KVM_RUN), so this installs
 * libc's getpid() as the handler: async-signal-safe, takes no arguments that matter, touches nothing.
 */
public final class VcpuKick {
    /** A real-time signal neither glibc (32, 33) nor HotSpot uses. */
    public static final int SIGNAL = 40;
    private static final int SIGACTION_SIZE = 152;
    private static final int SA_HANDLER_OFFSET = 0;
    private static volatile boolean installed;

    private VcpuKick() {
    }

    /** Installs the no-op handler for {@link #SIGNAL} once per process. */
    public static synchronized void install() {
        if (installed) {
            return;
        }
        Pointer handler = Function.getFunction("c", "getpid");
        Memory act = new Memory(SIGACTION_SIZE);
        act.clear();
        act.setPointer(SA_HANDLER_OFFSET, handler);
        try {
            LibC.sigaction(SIGNAL, act, null);
        } catch (LastErrorException e) {
            throw new SyscallException("sigaction", e.getErrorCode());
        }
        installed = true;
    }

    /** Sends the kick signal to kernel thread {@code tid} of this process. */
    public static void kick(int tid) {
        install();
        Sys.tgkill(tid, SIGNAL);
    }
}
