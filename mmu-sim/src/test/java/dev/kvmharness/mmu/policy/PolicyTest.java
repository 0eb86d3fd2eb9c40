// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.mmu.policy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

class PolicyTest {
    @Test
    void legacyLacksTheOverhaulAndCurrentHasIt() {
        assertThat(Policy.current().has(Behaviour.DEFER_REMOVED_PT_FLUSH)).isTrue();
        assertThat(Policy.legacy().has(Behaviour.DEFER_REMOVED_PT_FLUSH)).isFalse();
        assertThat(Policy.legacy().has(Behaviour.FAULTS_UNDER_READ_LOCK)).isTrue();
        assertThat(Policy.preTdp().has(Behaviour.FAULTS_UNDER_READ_LOCK)).isFalse();
        assertThat(Policy.current().has(Behaviour.ASYNC_ZAP_INVALIDATED_ROOTS)).isFalse();
    }

    @Test
    void modifiersToggleOneBehaviourOrDropOneFlush() {
        Policy p = Policy.parse("legacy,+retry_fault_on_invalid_root,!yield");
        assertThat(p.has(Behaviour.RETRY_FAULT_ON_INVALID_ROOT)).isTrue();
        assertThat(p.has(Behaviour.DEFER_REMOVED_PT_FLUSH)).isFalse();
        assertThat(p.flushes(FlushSite.YIELD)).isFalse();
        assertThat(p.flushes(FlushSite.ZAP_GFN_RANGE)).isTrue();
        assertThat(Policy.parse("current,-flush_before_yield").has(Behaviour.FLUSH_BEFORE_YIELD)).isFalse();
    }

    @Test
    void badSpecsNameTheProblem() {
        assertThatThrownBy(() -> Policy.parse("ancient")).hasMessageContaining("unknown policy 'ancient'");
        assertThatThrownBy(() -> Policy.parse("current,+nope")).hasMessageContaining("'nope'");
        assertThatThrownBy(() -> Policy.parse("current,x")).hasMessageContaining("bad policy modifier");
    }

    /** A typo lists what would have been valid, from the enums themselves, so a new behaviour is listed too. */
    @Test
    void anUnknownNameListsTheValidOnes() {
        assertThatThrownBy(() -> Policy.parse("legacy,+nonsense"))
                .hasMessageContaining("unknown behaviour 'nonsense' in policy 'legacy,+nonsense'")
                .hasMessageContaining(Arrays.stream(Behaviour.values()).map(Behaviour::key).collect(Collectors.joining(", ")))
                .hasMessageContaining("the policies are: 6.15, 6.13, 6.12 (current), 5.16 (legacy), pre-tdp");
        assertThatThrownBy(() -> Policy.parse("current,-Nonsense")).hasMessageContaining("unknown behaviour 'nonsense'");
        assertThatThrownBy(() -> Policy.parse("current,!nonsense"))
                .hasMessageContaining("unknown flush site 'nonsense'")
                .hasMessageContaining(Arrays.stream(FlushSite.values()).map(f -> f.name().toLowerCase(Locale.ROOT))
                        .collect(Collectors.joining(", ")));
        assertThatThrownBy(() -> Policy.parse("ancient")).hasMessageContaining("(expected 6.15, 6.13, 6.12 (current), 5.16 (legacy), pre-tdp");
    }

    /** The version names: 6.13 and 6.15 add the behaviours merged in those kernels to 6.12's, the aliases keep working. */
    @Test
    void policiesAreNamedByKernelVersion() {
        assertThat(Policy.parse("6.12").behaviours()).isEqualTo(Policy.current().behaviours());
        assertThat(Policy.parse("5.16").behaviours()).isEqualTo(Policy.legacy().behaviours());
        assertThat(Policy.parse("current").name()).isEqualTo("current");
        Policy v613 = Policy.parse("6.13");
        assertThat(v613.behaviours()).containsAll(Policy.current().behaviours())
                .contains(Behaviour.AGE_WITHOUT_FLUSH, Behaviour.BATCH_COLLAPSIBLE_ZAP_FLUSH, Behaviour.RECOVER_HUGE_PAGES_IN_PLACE)
                .doesNotContain(Behaviour.LOCKLESS_AGING);
        assertThat(Policy.parse("6.15").behaviours()).containsAll(v613.behaviours()).contains(Behaviour.LOCKLESS_AGING);
        assertThat(Policy.newest().behaviours()).isEqualTo(Policy.parse(Policy.NEWEST).behaviours());
        assertThat(Policy.parse("6.15,-lockless_aging").behaviours()).isEqualTo(v613.behaviours());
        assertThat(Policy.current().behaviours()).doesNotContain(Behaviour.AGE_WITHOUT_FLUSH, Behaviour.LOCKLESS_AGING);
        assertThat(Policy.names()).containsExactly("6.15", "6.13", "6.12", "5.16", "pre-tdp");
    }

    @Test
    void namesAreCaseAndDashInsensitiveAsBefore() {
        assertThat(Policy.parse("current,-Flush-Before-Yield").has(Behaviour.FLUSH_BEFORE_YIELD)).isFalse();
        assertThat(Policy.parse("current,!Root-Load").flushes(FlushSite.ROOT_LOAD)).isFalse();
    }
}
