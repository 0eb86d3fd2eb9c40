// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.mmu;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The model's layering, read from its sources (comments stripped): the checkers stay outside the model, the
 * observer interface is a leaf, and the TDP MMU sees the VM only through {@code tdp.TdpKvm}. A violation names
 * the file and the package it reaches.
 */
class ModelLayeringTest {
    private static final Path MAIN = Path.of("src/main/java/dev/kvmharness/mmu");
    private static final Pattern REF = Pattern.compile("\\bdev\\.kvmharness\\.mmu\\.([a-z]+)\\.");
    private static final Pattern COMMENTS = Pattern.compile("(?s)/\\*.*?\\*/|//[^\\n]*");

    /** Model packages each file references, other than its own, as "file -> package" lines. */
    private static List<String> references() {
        List<String> out = new ArrayList<>();
        try (Stream<Path> files = Files.walk(MAIN)) {
            for (Path f : (Iterable<Path>) files.filter(p -> p.toString().endsWith(".java")).sorted()::iterator) {
                Path rel = MAIN.relativize(f);
                String own = rel.getNameCount() > 1 ? rel.getName(0).toString() : "";
                String code = COMMENTS.matcher(Files.readString(f)).replaceAll("");
                Matcher m = REF.matcher(code);
                while (m.find()) {
                    if (!m.group(1).equals(own)) {
                        out.add(rel + " -> " + m.group(1));
                    }
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out;
    }

    private static List<String> from(String pkg) {
        return references().stream().filter(r -> r.startsWith(pkg + "/")).distinct().toList();
    }

    @Test
    void sourcesAreFound() {
        // Guards the tests below against passing vacuously (a wrong working directory finds no file).
        assertThat(references()).contains("kvm/SimKvm.java -> tdp");
    }

    @Test
    void onlyTheOracleItselfUsesTheOraclePackage() {
        assertThat(references()).filteredOn(r -> r.endsWith(" -> oracle"))
                .as("model files that import the checker; report through observe.MmuObserver instead").isEmpty();
    }

    @Test
    void observerIsALeaf() {
        assertThat(from("observe")).filteredOn(r -> !r.endsWith(" -> policy"))
                .as("observe may depend on policy.FlushSite only").isEmpty();
    }

    @Test
    void tdpSeesTheVmOnlyThroughTdpKvm() {
        Set<String> allowed = Set.of("spte", "memslot", "policy", "sched", "host", "observe");
        assertThat(from("tdp")).filteredOn(r -> !allowed.contains(r.substring(r.indexOf(" -> ") + 4)))
                .as("tdp files reaching past TdpKvm into the VM, faults, notifier or oracle").isEmpty();
    }

    /** Every match of {@code p} in the sources under {@code dir} (comments stripped), as "file: match" lines. */
    private static List<String> matches(Path dir, Pattern p) {
        List<String> out = new ArrayList<>();
        try (Stream<Path> files = Files.walk(dir)) {
            for (Path f : (Iterable<Path>) files.filter(x -> x.toString().endsWith(".java")).sorted()::iterator) {
                Matcher m = p.matcher(COMMENTS.matcher(Files.readString(f)).replaceAll(""));
                while (m.find()) {
                    out.add(MAIN.relativize(f) + ": " + m.group());
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out;
    }

    /** A store to a table's SPTE array: {@code spt[...] =} (or |=, &=, ^=), or a bulk fill or copy into it. */
    private static final Pattern SPTE_STORE = Pattern.compile(
            "\\bspt\\s*\\[[^\\]]*\\]\\s*[|&^]?=(?!=)|Arrays\\.fill\\([^,]*\\bspt\\b|arraycopy\\([^;]*\\bspt\\b");

    @Test
    void everySpteStoreGoesThroughSpTable() {
        // SpTable.store() counts stores over present SPTEs; the vCPUs' GuestTableMemo is exact only if none
        // bypasses it. KvmMmuPage.hardwareSetBits() is the CPU's A/D update, which changes no translation.
        List<String> stores = matches(MAIN, SPTE_STORE);
        assertThat(stores).as("stores to SPTEs found in the sources").isNotEmpty();
        assertThat(stores).filteredOn(s -> !s.startsWith("tdp/SpTable.java: ") && !s.startsWith("tdp/KvmMmuPage.java: spt[index] |="))
                .as("SPTE stores that bypass SpTable.store()").isEmpty();
    }

    /** A removal or replacement of a host page-table entry: PteTable.clear(i), the huge-leaf clears and the split. */
    private static final Pattern HOST_UNMAP = Pattern.compile("\\.clear\\(\\s*\\w+\\s*\\)|\\b(clearPmdLeaf|clearPudLeaf|replacePmdLeaf)\\(");

    @Test
    void everyHostUnmapIsInMemoryUnmap() {
        // MemoryUnmap announces each removal to the MMU notifiers, which HostMm.mappingChanges() counts; the
        // oracle's CheckedTranslations is exact only if no host mapping goes away elsewhere.
        List<String> sites = matches(MAIN.resolve("host"), HOST_UNMAP);
        assertThat(sites).as("host unmap sites found in the sources").anyMatch(s -> s.startsWith("host/MemoryUnmap.java: "));
        assertThat(sites).filteredOn(s -> !s.startsWith("host/MemoryUnmap.java: ") && !s.matches("host/HostPageTable.java: (clearPmdLeaf|clearPudLeaf|replacePmdLeaf)\\("))
                .as("host mappings removed outside MemoryUnmap").isEmpty();
    }

    /** A PTE set on a PteTable: t.set(i, pfn). */
    private static final Pattern PTE_SET = Pattern.compile("\\.set\\(\\s*\\w+\\s*,\\s*\\w+\\s*\\)");

    @Test
    void everyHostPteIsSetWhereHostPageTableCountsIt() {
        // The rmap index (Rmap) is exact only while HostPageTable.installs() counts every new mapping.
        List<String> sites = matches(MAIN.resolve("host"), PTE_SET);
        assertThat(sites).as("PTE sets found in the sources").anyMatch(s -> s.startsWith("host/HostPageTable.java: "));
        assertThat(sites).filteredOn(s -> !s.startsWith("host/HostPageTable.java: ")).as("PTEs set outside HostPageTable.setPte")
                .isEmpty();
    }
}
