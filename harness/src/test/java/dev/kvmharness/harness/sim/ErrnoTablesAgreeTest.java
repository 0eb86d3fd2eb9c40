// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.harness.sim;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kvmharness.mmu.KvmErrno;
import dev.kvmharness.sys.Errno;
import org.junit.jupiter.api.Test;

/**
 * The simulator keeps its own errno table (mmu-sim depends on nothing), kvm-native has the one checked against
 * the kernel headers: each of the simulator's codes must be the kernel's number under the same name, or a
 * simulated failure would compare unequal to the real one in MemslotErrnoIT and the ports' output.
 */
class ErrnoTablesAgreeTest {
    @Test
    void everySimulatedErrnoIsTheKernelsNumber() {
        for (KvmErrno e : KvmErrno.values()) {
            assertThat(Errno.valueOf(e.name()).value()).as(e.name()).isEqualTo(e.value());
        }
    }
}
