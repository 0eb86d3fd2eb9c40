// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.harness.guest;

import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.Consumer;

/**
 * A validated, immutable guest program: the instructions every vCPU of a VM starts in, the ucall table the
 * host decodes its exits with, and how many argument registers the host may load.
 *
 * <p>Validation happens once, here, so that a malformed program fails when the test class loads rather than
 * inside a running vCPU. A {@link Insn.Halt} is appended unless the program already ends with one: running off
 * the end stops the vCPU on every backend alike.
 */
public final class GuestProgram {
    private final String name;
    private final List<Insn> instructions;
    private final List<UcallSite> ucallSites;
    private final int argCount;
    private final Map<Label, Integer> binds;

    private GuestProgram(String name, List<Insn> instructions, List<UcallSite> ucallSites, int argCount,
                         Map<Label, Integer> binds) {
        this.name = name;
        this.instructions = instructions;
        this.ucallSites = ucallSites;
        this.argCount = argCount;
        this.binds = binds;
    }

    /** Builds a program with a {@link GuestBuilder}; see there for the vocabulary. */
    public static GuestProgram define(String name, Consumer<GuestBuilder> body) {
        Objects.requireNonNull(body, "body");
        GuestBuilder g = new GuestBuilder();
        body.accept(g);
        return g.build(name);
    }

    /**
     * A program from raw parts, for code that generates IR without the builder.
     *
     * @throws IllegalArgumentException if a label is used but not bound, bound twice, a ucall index is outside
     *     the table, a literal divisor is zero, or {@code argCount} is outside {@code 0..Reg.ARG_COUNT}
     */
    public static GuestProgram of(String name, int argCount, List<Insn> instructions, List<UcallSite> ucallSites) {
        Objects.requireNonNull(name, "name");
        if (name.isBlank()) {
            throw new IllegalArgumentException("guest program needs a name");
        }
        if (argCount < 0 || argCount > Reg.ARG_COUNT) {
            throw new IllegalArgumentException(name + ": argCount " + argCount + " outside 0.." + Reg.ARG_COUNT);
        }
        List<Insn> insns = new ArrayList<>(instructions);
        List<UcallSite> sites = List.copyOf(ucallSites);
        if (insns.isEmpty() || !(insns.get(insns.size() - 1) instanceof Insn.Halt)) {
            insns.add(new Insn.Halt());
        }
        IdentityHashMap<Label, Integer> binds = new IdentityHashMap<>();
        for (int i = 0; i < insns.size(); i++) {
            Insn insn = insns.get(i);
            if (insn == null) {
                throw new IllegalArgumentException(name + ": instruction #" + i + " is null");
            }
            if (insn instanceof Insn.Bind b) {
                Integer previous = binds.putIfAbsent(b.label(), i);
                if (previous != null) {
                    throw new IllegalArgumentException(name + ": label " + b.label() + " bound twice, at instructions #"
                            + previous + " and #" + i);
                }
            }
        }
        for (int i = 0; i < insns.size(); i++) {
            Insn insn = insns.get(i);
            Label target = targetOf(insn);
            if (target != null && !binds.containsKey(target)) {
                throw new IllegalArgumentException(name + ": instruction #" + i + " " + insn + " jumps to label "
                        + target + ", which is never bound in this program");
            }
            if (insn instanceof Insn.Ucall u && (u.site() < 0 || u.site() >= sites.size())) {
                throw new IllegalArgumentException(name + ": instruction #" + i + " calls ucall site " + u.site()
                        + " but the table has " + sites.size() + " site(s)");
            }
            if (insn instanceof Insn.AluImm a && a.op().divides() && a.imm() == 0) {
                throw new IllegalArgumentException(name + ": instruction #" + i + " " + insn + " divides by literal 0");
            }
        }
        return new GuestProgram(name, List.copyOf(insns), sites, argCount, binds);
    }

    /** The label a control transfer goes to, or null for instructions that always fall through. */
    public static Label targetOf(Insn insn) {
        if (insn instanceof Insn.Jump j) {
            return j.target();
        }
        if (insn instanceof Insn.Branch b) {
            return b.target();
        }
        if (insn instanceof Insn.BranchImm b) {
            return b.target();
        }
        return null;
    }

    public String name() {
        return name;
    }

    public List<Insn> instructions() {
        return instructions;
    }

    public List<UcallSite> ucallSites() {
        return ucallSites;
    }

    /**
     * How many argument registers ({@code r0..r<argCount-1>}) the host may set before the first run; every
     * other register starts at 0.
     */
    public int argCount() {
        return argCount;
    }

    /** Index in {@link #instructions()} of the {@link Insn.Bind} that places {@code label}. */
    public int bindIndex(Label label) {
        Integer i = binds.get(label);
        if (i == null) {
            throw new IllegalArgumentException("label " + label + " is not bound in " + name);
        }
        return i;
    }

    /** A human-readable listing, one instruction per line, for failure messages and debugging. */
    public String listing() {
        StringBuilder sb = new StringBuilder(name).append(" (args: ").append(argCount).append(")\n");
        for (int i = 0; i < instructions.size(); i++) {
            Insn insn = instructions.get(i);
            if (insn instanceof Insn.Bind b) {
                sb.append(b.label()).append(":\n");
            } else {
                sb.append(String.format("  %4d  %s", i, insn));
                if (insn instanceof Insn.Ucall u) {
                    UcallSite s = ucallSites.get(u.site());
                    sb.append("  ; ").append(s.kind()).append(" \"").append(s.format()).append('"').append(s.values());
                }
                sb.append('\n');
            }
        }
        return sb.toString();
    }

    @Override
    public String toString() {
        return "GuestProgram[" + name + ", " + instructions.size() + " insns, " + ucallSites.size() + " ucall sites]";
    }
}
