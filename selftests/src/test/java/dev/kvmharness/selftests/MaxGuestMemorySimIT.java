// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.selftests;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** max_guest_memory_test and mmu_stress_test on the simulator (the default backend) through the packaged CLI. */
class MaxGuestMemorySimIT {
    private static final String RUN1_6_12 = "run1 = \\d+\\.\\d{9}s, reset = \\d+\\.\\d{9}s, run2 =  \\d+\\.\\d{9}s\n";
    private static final String RUN1_STRESS =
            "run1 = \\d+\\.\\d{9}s, reset = \\d+\\.\\d{9}s, run2 = \\d+\\.\\d{9}s, ro = \\d+\\.\\d{9}s, rw = \\d+\\.\\d{9}s\n";

    private static JsonNode run(Path dir, String test, String options) throws Exception {
        Path json = dir.resolve("out.json");
        SelftestsJar.Result r = SelftestsJar.run(300, (test + " " + options + " --json " + json).split(" "));
        assertThat(r.exit()).as("exit code; output:\n%s", r.all()).isZero();
        assertThat(r.out()).containsPattern("Running with \\d+gb of guest memory and \\d+ vCPUs\n")
                .contains("Waiting for vCPUs to finish spawning...\n", "\rAll vCPUs finished run 1, releasing...\n",
                        "\rAll vCPUs finished reset, releasing...\n", "\rAll vCPUs finished run 2, releasing...\n")
                .containsPattern(test.equals("mmu_stress_test") ? RUN1_STRESS : RUN1_6_12);
        JsonNode root = new ObjectMapper().readTree(json.toFile());
        assertThat(root.at("/backend_report/oracle_violations").asLong()).isZero();
        return root;
    }

    @ParameterizedTest
    @ValueSource(strings = {"-m 2 -s 1 -c 1", "-m 4 -s 1 -c 2", "-c 3 -m 3 -s 1 --seed 5"})
    void everyPageOfEverySlotIsFaultedTwice(String options, @TempDir Path dir) throws Exception {
        JsonNode root = run(dir, "max_guest_memory_test", options);
        long bytes = root.at("/rates/guest_memory_bytes").asLong();
        // 4K host pages: one 4K SPTE per guest page of every slot, each faulted at least once.
        assertThat(root.at("/stats/vm/pages_4k").asLong()).isGreaterThanOrEqualTo(bytes / 4096);
        assertThat(root.at("/stats/vcpu/pf_fixed").asLong()).isGreaterThanOrEqualTo(bytes / 4096);
        assertThat(root.at("/rates/memslots").asLong()).isEqualTo(bytes / root.at("/options/slot_size").asLong());
    }

    /**
     * After run 2 the test deletes the even slots and unmaps the first half of the backing. With
     * KVM_X86_QUIRK_SLOT_ZAP_ALL (on by default) the first deletion zaps every root, so every SPTE of the run goes
     * then and the munmap finds nothing left to zap; the munmap itself shows in pagemap.
     */
    @ParameterizedTest
    @ValueSource(strings = {"-m 4 -s 1 -c 2", "-m 6 -s 2 -c 1 -H --stride 2M"})
    void teardownDeletesTheEvenSlotsAndUnmapsHalfTheBacking(String options, @TempDir Path dir) throws Exception {
        JsonNode root = run(dir, "max_guest_memory_test", options);
        JsonNode t = root.get("teardown");
        assertThat(t).as("--json has the teardown section").isNotNull();
        long slotSize = root.at("/options/slot_size").asLong();
        long slots = root.at("/rates/memslots").asLong();
        assertThat(t.get("slots_deleted").asLong()).as("teardown.slots_deleted: the even slots deleted after run 2")
                .isEqualTo(slots / 2);
        assertThat(t.get("slots_kept").asLong()).as("teardown.slots_kept").isEqualTo(slots - slots / 2);
        // Every SPTE the run left (4K, or 2M with -H) is zapped by deleting the even slots, none by the munmap.
        String size = options.contains("-H") ? "pages_2m" : "pages_4k";
        long sptes = root.at("/stats/vm/" + size).asLong();
        assertThat(sptes).isGreaterThanOrEqualTo(root.at("/rates/guest_memory_bytes").asLong() / (size.equals("pages_2m") ? 1L << 21 : 4096));
        assertThat(t.at("/delete_stats/" + size).asLong())
                .as("teardown.delete_stats.%s: SPTEs zapped by deleting the even memslots after run 2", size).isEqualTo(-sptes);
        assertThat(t.at("/munmap_stats/pages_4k").asLong() + t.at("/munmap_stats/pages_2m").asLong()
                + t.at("/munmap_stats/pages_1g").asLong())
                .as("teardown.munmap_stats: SPTEs zapped by the munmap, after the slot deletion zapped every root").isZero();
        assertThat(t.get("bytes_unmapped").asLong()).as("teardown.bytes_unmapped").isEqualTo(slotSize / 2);
        assertThat(t.get("pages_unmapped").asLong()).as("teardown.pages_unmapped").isEqualTo(slotSize / 2 / 4096);
        assertUnmappedFirstHalf(t);
    }

    /** pagemap, sampled: the first half of the backing present before and gone after the munmap, the rest kept. */
    static void assertUnmappedFirstHalf(JsonNode t) {
        long low = t.at("/unmapped_half/sampled").asLong();
        long high = t.at("/kept_half/sampled").asLong();
        assertThat(low).isPositive();
        assertThat(high).isPositive();
        assertThat(t.at("/unmapped_half/present_before").asLong()).as("teardown.unmapped_half.present_before").isEqualTo(low);
        assertThat(t.at("/unmapped_half/present_after").asLong())
                .as("teardown.unmapped_half.present_after: sampled pages of the half munmap()ed after run 2 still mapped")
                .isZero();
        assertThat(t.at("/kept_half/present_after").asLong()).as("teardown.kept_half.present_after").isEqualTo(high);
    }

    @Test
    void hugetlbBackingMapsHugeSptes(@TempDir Path dir) throws Exception {
        JsonNode two = run(dir, "max_guest_memory_test", "-m 8 -s 2 -c 1 -H --stride 2M");
        assertThat(two.at("/stats/vm/pages_2m").asLong()).isEqualTo(8L * 512);
        JsonNode one = run(dir, "max_guest_memory_test", "-m 64 -s 4 -c 2 -H --hugepage-size 1G --stride 1G");
        assertThat(one.at("/stats/vm/pages_1g").asLong()).isEqualTo(64);
        assertThat(one.at("/stats/vm/pages_2m").asLong()).isZero();
    }

    @Test
    void fiveLevelEptAndGuestPagingReachPastTheFourLevelLimit(@TempDir Path dir) throws Exception {
        // 512 TiB of guest memory from 4 GiB: beyond 256 TiB only a 5-level guest and 5-level EPT can map it.
        JsonNode root = run(dir, "max_guest_memory_test", "--maxphyaddr 52 -m 524288 -s 1024 -c 1 -H --hugepage-size 1G --stride 1G");
        assertThat(root.at("/rates/guest_memory_bytes").asLong()).isEqualTo(512L << 40);
        assertThat(root.at("/stats/vm/pages_1g").asLong()).isEqualTo(512L * 1024);
    }

    @Test
    void maxphyaddr46StopsAtTheLargestGpa(@TempDir Path dir) throws Exception {
        // -m above 64 TiB: the slots stop where gpa + slot_size would pass 2^46.
        JsonNode root = run(dir, "max_guest_memory_test", "--maxphyaddr 46 -m 131072 -s 1024 -c 1 -H --hugepage-size 1G --stride 1G");
        assertThat(root.at("/rates/memslots").asLong()).isEqualTo(63);
    }

    @Test
    void mmuStressWritesUnderReadOnlyMemoryFailWithEfault(@TempDir Path dir) throws Exception {
        JsonNode root = run(dir, "mmu_stress_test", "-m 1 -s 1 -c 1");
        assertThat(root.at("/timings/ro_ns").asLong()).isPositive();
        assertThat(root.at("/timings/rw_ns").asLong()).isPositive();
        // Stage 3 faults every page once more after mprotect(PROT_READ) zapped the SPTEs (and stage 4 again).
        assertThat(root.at("/stats/vcpu/pf_taken").asLong()).isGreaterThanOrEqualTo(3L * 262144);
    }

    /** Same seed, same run: the rendezvous spins and the vCPUs' interleaving are virtual, so the JSON is identical. */
    @Test
    void sameSeedSameJsonBitForBit(@TempDir Path dir) throws Exception {
        String[] out = new String[2];
        for (int i = 0; i < 2; i++) {
            Path json = dir.resolve(i + ".json");
            SelftestsJar.Result r = SelftestsJar.run(300, "mmu_stress_test", "-m", "2", "-s", "1", "-c", "2", "-H", "--stride", "64K",
                    "--seed", "7", "--stats", "--json", json.toString());
            assertThat(r.exit()).as(r.all()).isZero();
            assertThat(r.out()).contains("pf_taken");
            out[i] = java.nio.file.Files.readString(json);
        }
        assertThat(out[1]).isEqualTo(out[0]);
    }

    @Test
    void mmuStressWithSeveralVcpusAndHugepages(@TempDir Path dir) throws Exception {
        JsonNode root = run(dir, "mmu_stress_test", "-m 4 -s 2 -c 2 -H --stride 2M");
        assertThat(root.at("/stats/vm/pages_2m").asLong()).isPositive();
    }
}
