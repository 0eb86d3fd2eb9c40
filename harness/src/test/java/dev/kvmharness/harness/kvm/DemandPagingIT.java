// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.harness.kvm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.kvmharness.harness.BackingSource;
import dev.kvmharness.harness.DemandPaging;
import dev.kvmharness.harness.Exit;
import dev.kvmharness.harness.GuestMode;
import dev.kvmharness.harness.TestAssertionFailure;
import dev.kvmharness.harness.Ucall;
import dev.kvmharness.harness.memstress.Memstress;
import dev.kvmharness.harness.memstress.VcpuArgs;
import dev.kvmharness.junit.RequiresKvm;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

/** Demand paging through the harness API on real KVM: pages arrive with the prototype's bytes; failures are fast. */
@RequiresKvm
class DemandPagingIT {
    private static final long SIZE = 4L << 20;

    private static Memstress vm() {
        return Memstress.createVm(new KvmBackend(), GuestMode.PXXV48_4K, 1, SIZE, 1, BackingSource.ANONYMOUS, true,
                new Memstress.Options(100, false, 1, Duration.ofMinutes(2)));
    }

    @Test
    void everyPageIsCopiedInOnceAndHoldsTheGuestsWrite() {
        try (Memstress ms = vm()) {
            VcpuArgs a = ms.vcpuArgs(0);
            long hva = ms.vm().gpa2hva(a.gpa());
            DemandPaging dp = ms.vm().demandPaging(new DemandPaging.Config(DemandPaging.Mode.MISSING, 0, hva, SIZE, 2,
                    4096, (byte) 0xAB, (mode, r, addr) -> r.copy(addr & -4096, 4096)));
            assertThat(a.vcpu().runToUcall().kind()).isEqualTo(Ucall.Kind.SYNC);
            // The vCPU may resume before the last reader counts its page: read the count once readers are joined.
            dp.close();
            assertThat(dp.pagesHandled()).isEqualTo(SIZE / 4096);
            // The guest wrote its pattern over the first 8 bytes; the rest of the page is the prototype's.
            assertThat(ms.vm().read64(a.gpa())).isEqualTo(0x0123456789ABCDEFL);
            assertThat(ms.vm().read64(a.gpa() + 8)).isEqualTo(0xABABABABABABABABL);
            assertThat(ms.vm().read64(a.gpa() + SIZE - 8)).isEqualTo(0xABABABABABABABABL);
        }
    }

    @Test
    void aFailingReaderStopsTheVcpuAtOnceNotAtTheRunTimeout() {
        try (Memstress ms = vm()) {
            VcpuArgs a = ms.vcpuArgs(0);
            long hva = ms.vm().gpa2hva(a.gpa());
            DemandPaging dp = ms.vm().demandPaging(new DemandPaging.Config(DemandPaging.Mode.MISSING, 0, hva, SIZE, 1,
                    4096, (byte) 0xAB, (mode, r, addr) -> {
                        throw new IllegalStateException("boom at 0x" + Long.toHexString(addr));
                    }));
            CompletableFuture<Exit> run = CompletableFuture.supplyAsync(() -> a.vcpu().run());
            // The run timeout is 120 s; the reader's failure must end the run long before.
            await().atMost(Duration.ofSeconds(20)).until(run::isDone);
            assertThatThrownBy(run::join).hasCauseInstanceOf(TestAssertionFailure.class).hasMessageContaining("boom at 0x");
            assertThatThrownBy(dp::close).isInstanceOf(TestAssertionFailure.class).hasMessageContaining("boom");
        }
    }
}
