// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.selftests;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

/** {@code --shard i/n}: the shards of a suite are disjoint and together are the suite, in any n. */
class ShardTest {
    private static final List<SuiteItem> SUITE = SuiteItem.of(List.of("a_test", "b_test", "c_test"), SuiteItem.seedRange("1..17"));

    @ParameterizedTest
    @ValueSource(ints = {1, 2, 3, 5, 51, 60})
    void theShardsPartitionTheSuite(int n) {
        List<SuiteItem> union = new ArrayList<>();
        Set<SuiteItem> seen = new HashSet<>();
        for (int i = 1; i <= n; i++) {
            for (SuiteItem it : new Shard(i, n).select(SUITE)) {
                assertThat(seen.add(it)).as("%s in two shards of %d", it, n).isTrue();
                union.add(it);
            }
        }
        assertThat(union).containsExactlyInAnyOrderElementsOf(SUITE);
    }

    @Test
    void badShardsAreRejected() {
        assertThatThrownBy(() -> Shard.parse("0/2")).hasMessageContaining("1 <= i <= n");
        assertThatThrownBy(() -> Shard.parse("3/2")).hasMessageContaining("1 <= i <= n");
        assertThatThrownBy(() -> Shard.parse("1-2")).hasMessageContaining("want i/n");
        assertThat(Shard.parse(" 2/3")).isEqualTo(new Shard(2, 3));
        assertThat(Shard.parse("indexed/4", "0")).as("an indexed Job's pod 0 is shard 1").isEqualTo(new Shard(1, 4));
        assertThat(Shard.parse("indexed/4", "3")).isEqualTo(new Shard(4, 4));
        assertThatThrownBy(() -> Shard.parse("indexed/4", null)).hasMessageContaining("JOB_COMPLETION_INDEX");
    }
}
