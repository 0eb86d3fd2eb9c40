// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.selftests;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.kvmharness.junit.RequiresKvm;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** max_guest_memory_test on /dev/kvm through the packaged CLI. */
@RequiresKvm
class MaxGuestMemoryIT {
    /** The configuration the C binary dies on here (no 1 GiB guest pages); the port maps with 2M and passes. */
    @Test
    void eightGigabytesOnOneVcpu(@TempDir Path dir) throws Exception {
        Path json = dir.resolve("out.json");
        SelftestsJar.Result r = SelftestsJar.run(300, "max_guest_memory_test", "--backend", "kvm", "-m", "8", "-c", "1",
                "--json", json.toString());
        assertThat(r.exit()).as("exit code; output:\n%s", r.all()).isZero();
        assertThat(r.out()).contains("Running with 8gb of guest memory and 1 vCPUs\n",
                        "\rAll vCPUs finished run 2, releasing...\n")
                .containsPattern("Guest memory identity mapped with (1G|2M) pages")
                .containsPattern("run1 = \\d+\\.\\d{9}s, reset = \\d+\\.\\d{9}s, run2 =  \\d+\\.\\d{9}s\n");
        JsonNode root = new ObjectMapper().readTree(json.toFile());
        assertThat(root.get("backend").asText()).isEqualTo("kvm");
        assertThat(root.at("/rates/memslots").asLong()).isEqualTo(4);
        assertThat(root.at("/timings/run1_ns").asLong()).isPositive();
        // pf_taken stays 0 on this PVM host; every guest fault still exits.
        assertThat(root.at("/stats/vcpu/exits").asLong()).isPositive();
    }

    /**
     * The step after run 2: the even slots deleted, then the first half of the backing unmapped. Deleting a slot
     * zaps every root (KVM_X86_QUIRK_SLOT_ZAP_ALL, on by default): shadow pages on a shadow-paging host (this
     * one's pages_* stay 0), leaf SPTEs on a TDP one; the munmap then finds nothing mapped to zap.
     */
    @Test
    void teardownDeletesTheEvenSlotsAndUnmapsHalfTheBacking(@TempDir Path dir) throws Exception {
        Path json = dir.resolve("out.json");
        SelftestsJar.Result r = SelftestsJar.run(300, "max_guest_memory_test", "--backend", "kvm", "-m", "4", "-s", "1", "-c", "1",
                "--json", json.toString());
        assertThat(r.exit()).as("exit code; output:\n%s", r.all()).isZero();
        JsonNode t = new ObjectMapper().readTree(json.toFile()).get("teardown");
        assertThat(t).as("--json has the teardown section").isNotNull();
        assertThat(t.get("slots_deleted").asLong()).as("teardown.slots_deleted: the even slots deleted after run 2").isEqualTo(2);
        assertThat(t.get("slots_kept").asLong()).as("teardown.slots_kept").isEqualTo(2);
        assertThat(zapped(t.get("delete_stats")))
                .as("teardown.delete_stats: shadow pages and SPTEs zapped by deleting the even memslots after run 2 (%s)",
                        t.get("delete_stats"))
                .isPositive();
        assertThat(zapped(t.get("munmap_stats")))
                .as("teardown.munmap_stats: zapped by the munmap, after the slot deletion zapped every root (%s)",
                        t.get("munmap_stats"))
                .isZero();
        assertThat(t.get("bytes_unmapped").asLong()).as("teardown.bytes_unmapped").isEqualTo(1L << 29);
        assertThat(t.get("pages_unmapped").asLong()).as("teardown.pages_unmapped").isEqualTo((1L << 29) / 4096);
        MaxGuestMemorySimIT.assertUnmappedFirstHalf(t);
    }

    /** Shadow pages zapped plus leaf SPTEs of every size dropped, from a teardown stats change. */
    private static long zapped(JsonNode change) {
        return change.get("mmu_shadow_zapped").asLong() - change.get("pages_4k").asLong()
                - change.get("pages_2m").asLong() - change.get("pages_1g").asLong();
    }

    @Test
    void twoVcpusOverSmallSlots() throws Exception {
        SelftestsJar.Result r = SelftestsJar.run(300, "max_guest_memory_test", "--backend", "kvm", "-m", "2", "-s", "1", "-c", "2");
        assertThat(r.exit()).as("exit code; output:\n%s", r.all()).isZero();
        assertThat(r.out()).contains("Running with 2gb of guest memory and 2 vCPUs\n");
    }

    /**
     * mmu_stress_test's read-only stage: stock KVM fails KVM_RUN with EFAULT; this host's KVM (under PVM)
     * emulates the store and reports KVM_EXIT_MMIO instead. Either way every write must fail, and the run passes.
     */
    @Test
    void mmuStressStagesOnKvm(@TempDir Path dir) throws Exception {
        Path json = dir.resolve("out.json");
        SelftestsJar.Result r = SelftestsJar.run(300, "mmu_stress_test", "--backend", "kvm", "-m", "1", "-s", "1", "-c", "1",
                "--json", json.toString());
        assertThat(r.exit()).as("exit code; output:\n%s", r.all()).isZero();
        assertThat(r.out()).contains("\rAll vCPUs finished mprotect RO, releasing...\n",
                        "\rAll vCPUs finished mprotect RW, releasing...\n")
                .containsPattern("run1 = \\d+\\.\\d{9}s, reset = \\d+\\.\\d{9}s, run2 = \\d+\\.\\d{9}s, "
                        + "ro = \\d+\\.\\d{9}s, rw = \\d+\\.\\d{9}s\n");
        JsonNode root = new ObjectMapper().readTree(json.toFile());
        assertThat(root.at("/timings/ro_ns").asLong()).isPositive();
    }

    @Test
    void simulatorOnlyOptionsAreUsageErrorsOnKvm() throws Exception {
        SelftestsJar.Result r = SelftestsJar.run(60, "max_guest_memory_test", "--backend", "kvm", "--stride", "1G");
        assertThat(r.exit()).isEqualTo(2);
        assertThat(r.err()).contains("simulator-only")
                .contains("usage: max_guest_memory_test [-c nr_vcpus] [-m max_mem_in_gb] [-s slot_size_in_gb] [-H]");
    }
}
