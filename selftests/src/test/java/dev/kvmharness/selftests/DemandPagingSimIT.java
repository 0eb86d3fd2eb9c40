// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.selftests;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * demand_paging_test through the packaged CLI, what only the simulator (the default backend) can show: its
 * mmu_lock policies, same seed same JSON, lock contention and cost models in virtual time. The configurations
 * both backends run are {@link DemandPagingIT}.
 */
class DemandPagingSimIT {
    /**
     * The simulator's mmu_lock policies (--policy, no kvm counterpart), checked like every configuration of
     * {@link DemandPagingIT}: the C lines and no page through userfaultfd without -u.
     */
    @ParameterizedTest
    @ValueSource(strings = {
        "--policy legacy -v 2 -b 16M",
        "--policy pre-tdp -v 2 -b 16M",
    })
    void otherMmuLockPoliciesPassWithTheCOutputLines(String options, @TempDir Path dir) throws Exception {
        DemandPagingIT.runAndCheck("sim", DemandPagingIT.Config.of(options, 0), dir);
    }

    @Test
    void sameSeedSameJsonBitForBit(@TempDir Path dir) throws Exception {
        Path a = dir.resolve("a.json");
        Path b = dir.resolve("b.json");
        for (Path p : new Path[] {a, b}) {
            SelftestsJar.Result r = SelftestsJar.run(600, "demand_paging_test", "-v", "8", "-b", "512M", "--seed", "7",
                    "--json", p.toString());
            assertThat(r.exit()).as(r.all()).isZero();
        }
        assertThat(Files.readString(a)).isEqualTo(Files.readString(b));
        JsonNode root = new ObjectMapper().readTree(a.toFile());
        assertThat(root.get("backend").asText()).isEqualTo("sim");
        assertThat(root.get("clock").asText()).as("sim timings are virtual").isEqualTo("virtual");
        // Every page of 8 x 512 MiB faulted in once by its vCPU.
        assertThat(root.at("/stats/vcpu/pf_fixed").asLong()).isGreaterThanOrEqualTo(8L * 512 * 256);
        assertThat(root.at("/stats/vm/pages_4k").asLong()).isGreaterThanOrEqualTo(8L * 512 * 256);
        assertThat(root.at("/timings/total_guest_execution_ns").asLong()).isPositive();
        assertThat(root.at("/backend_report/policy").asText()).isEqualTo("current");
        assertThat(root.at("/backend_report/oracle_violations").asLong()).isZero();
        assertThat(root.at("/backend_report/mmu_lock_acquisitions").asLong()).isPositive();
    }

    /** Faults under the write lock (pre-TDP) queue behind each other; under the read lock they do not. */
    @Test
    void preTdpFaultsContendForMmuLock(@TempDir Path dir) throws Exception {
        long[] waits = new long[2];
        String[] policies = {"current", "pre-tdp"};
        for (int i = 0; i < 2; i++) {
            Path json = dir.resolve(policies[i] + ".json");
            SelftestsJar.Result r = SelftestsJar.run(300, "demand_paging_test", "-v", "8", "-b", "8M", "--policy", policies[i],
                    "--json", json.toString());
            assertThat(r.exit()).as(r.all()).isZero();
            waits[i] = new ObjectMapper().readTree(json.toFile()).at("/backend_report/mmu_lock_wait_ns").asLong();
        }
        assertThat(waits[0]).isZero();
        assertThat(waits[1]).isPositive();
    }

    /**
     * Seed 004's account of its 416-vCPU run, small: before the TDP MMU the vCPUs wait for mmu_lock; after it,
     * they spend their time in get_user_pages (with the userfault wait inside), queueing for mmap_lock's cache
     * line, and the run is shorter.
     */
    @Test
    void withoutMmuLockContentionTheFaultsWaitInGetUserPages(@TempDir Path dir) throws Exception {
        int vcpus = 64;
        JsonNode[] runs = new JsonNode[2];
        String[] policies = {"pre-tdp", "current"};
        for (int i = 0; i < 2; i++) {
            Path json = dir.resolve(policies[i] + ".json");
            SelftestsJar.Result r = SelftestsJar.run(300, "demand_paging_test", "-v", "" + vcpus, "-b", "512K", "-u", "MISSING",
                    "--policy", policies[i], "--json", json.toString());
            assertThat(r.exit()).as(r.all()).isZero();
            runs[i] = new ObjectMapper().readTree(json.toFile());
        }
        long preTdp = runs[0].at("/timings/total_guest_execution_ns").asLong();
        long current = runs[1].at("/timings/total_guest_execution_ns").asLong();
        assertThat(current).isLessThan(preTdp / 2);
        double mmuLockShare = runs[0].at("/backend_report/mmu_lock_wait_ns").asDouble() / ((double) vcpus * preTdp);
        assertThat(mmuLockShare).as("pre-tdp: share of vCPU time waiting for mmu_lock").isGreaterThan(0.7);
        double gupShare = runs[1].at("/backend_report/gup_ns").asDouble() / ((double) vcpus * current);
        assertThat(gupShare).as("current: share of vCPU time in get_user_pages").isGreaterThan(0.7);
        assertThat(runs[1].at("/backend_report/mmap_lock_line_wait_ns").asLong()).isPositive();
        assertThat(runs[1].at("/backend_report/uffd_fill_ioctl_ns").asLong()).isPositive();
    }

    /** --cost-model changes virtual time and nothing else: a dearer VM exit makes the same run take longer. */
    @Test
    void aCostModelFileChangesVirtualTime(@TempDir Path dir) throws Exception {
        Path costs = dir.resolve("costs.properties");
        Files.writeString(costs, "# a slower exit\nvmexit = 6000\n");
        long[] total = new long[2];
        for (int i = 0; i < 2; i++) {
            Path json = dir.resolve(i + ".json");
            String[] args = i == 0
                    ? new String[] {"demand_paging_test", "-b", "8M", "--json", json.toString()}
                    : new String[] {"demand_paging_test", "-b", "8M", "--cost-model", costs.toString(), "--json", json.toString()};
            SelftestsJar.Result r = SelftestsJar.run(300, args);
            assertThat(r.exit()).as(r.all()).isZero();
            JsonNode root = new ObjectMapper().readTree(json.toFile());
            total[i] = root.at("/timings/total_guest_execution_ns").asLong();
            assertThat(root.at("/stats/vcpu/pf_fixed").asLong()).isGreaterThanOrEqualTo(2048);
        }
        assertThat(total[1]).isGreaterThan(total[0] + 2048L * 5000);
    }
}
