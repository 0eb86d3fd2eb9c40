// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.selftests.conformance;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.lang.reflect.Constructor;
import java.lang.reflect.RecordComponent;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.TreeMap;

/**
 * A conformance history: how the VM is set up (manual dirty-log protection or not) and its steps. Generated
 * from a seed by {@link #generate}, which follows the VM's state as the kernel would change it (which slots
 * exist where, which are logged, whose memory is unmapped) so that most steps do something; a step that does
 * not apply to the state it meets (shrinking removes the steps before it) is skipped the same way on both
 * backends.
 */
public record History(long seed, boolean manualProtect, List<Op> ops) {
    /** Pages per test slot. */
    public static final int PAGES = 4;
    /** Positions a slot may take, two pages apart: a slot overlaps its neighbours on either side. */
    public static final int POSITIONS = 11;
    /** Pages from one position to the next. */
    public static final int POSITION_PAGES = 2;
    /** The test slots' ids. */
    private static final int[] SLOTS = {10, 11, 12};

    public History {
        ops = List.copyOf(ops);
    }

    public History withOps(List<Op> newOps) {
        return new History(seed, manualProtect, newOps);
    }

    /** A history of {@code steps} steps from {@code seed}. */
    public static History generate(long seed, int steps) {
        SplittableRandom r = new SplittableRandom(seed);
        boolean manual = r.nextInt(3) == 0;
        Map<Integer, Integer> at = new TreeMap<>();
        Set<Integer> logged = new HashSet<>();
        Set<Integer> unmapped = new HashSet<>();
        List<Op> ops = new ArrayList<>();
        while (ops.size() < steps) {
            int slot = SLOTS[r.nextInt(SLOTS.length)];
            boolean present = at.containsKey(slot);
            int k = r.nextInt(100);
            Op op;
            if (!present && (k < 40 || at.isEmpty())) {
                int pos = r.nextInt(POSITIONS);
                boolean log = r.nextInt(4) == 0;
                op = new Op.CreateSlot(slot, pos, log, r.nextInt(5) == 0);
                if (free(at, slot, pos)) {
                    at.put(slot, pos);
                    if (log) {
                        logged.add(slot);
                    }
                }
            } else if (!present) {
                continue;
            } else if (unmapped.contains(slot) && k < 16) {
                // after munmap only the guest and the dirty log still have something to do with the slot
                continue;
            } else if (k < 4) {
                op = new Op.DeleteSlot(slot);
                at.remove(slot);
                logged.remove(slot);
                unmapped.remove(slot);
            } else if (k < 10) {
                int pos = r.nextInt(POSITIONS);
                op = new Op.MoveSlot(slot, pos);
                if (free(at, slot, pos)) {
                    at.put(slot, pos);
                }
            } else if (k < 16) {
                boolean on = !logged.contains(slot);
                op = new Op.SetDirtyLogging(slot, on);
                if (on) {
                    logged.add(slot);
                } else {
                    logged.remove(slot);
                }
            } else if (k < 36) {
                op = new Op.GuestWrite(guestPos(r, at.get(slot)), r.nextInt(PAGES), r.nextInt(4), r.nextLong());
            } else if (k < 58) {
                op = new Op.GuestRead(guestPos(r, at.get(slot)), r.nextInt(PAGES), r.nextInt(4));
            } else if (k < 64 && !unmapped.contains(slot)) {
                op = new Op.HostWrite(slot, r.nextInt(PAGES), r.nextLong());
            } else if (k < 70 && !unmapped.contains(slot)) {
                op = new Op.HostRead(slot, r.nextInt(PAGES));
            } else if (k < 82) {
                op = new Op.GetDirtyLog(slot);
            } else if (k < 90 && manual) {
                op = new Op.ClearDirtyLog(slot, r.nextLong(1L << PAGES));
            } else if (k < 95 && !unmapped.contains(slot)) {
                int page = r.nextInt(PAGES);
                op = new Op.Dontneed(slot, page, 1 + r.nextInt(PAGES - page));
            } else if (k < 96 && !unmapped.contains(slot)) {
                op = new Op.Munmap(slot);
                unmapped.add(slot);
            } else {
                continue;
            }
            ops.add(op);
        }
        return new History(seed, manual, ops);
    }

    /** Mostly the slot's own position; now and then a neighbour's, or any, which may hold no memslot (MMIO). */
    private static int guestPos(SplittableRandom r, int pos) {
        int k = r.nextInt(10);
        if (k < 7) {
            return pos;
        }
        if (k < 9) {
            return Math.max(0, Math.min(POSITIONS - 1, pos + (r.nextBoolean() ? 1 : -1)));
        }
        return r.nextInt(POSITIONS);
    }

    /** Whether {@code slot} may sit at {@code pos} without overlapping another slot. */
    static boolean free(Map<Integer, Integer> at, int slot, int pos) {
        for (Map.Entry<Integer, Integer> e : at.entrySet()) {
            if (e.getKey() != slot && Math.abs(e.getValue() - pos) * POSITION_PAGES < PAGES) {
                return false;
            }
        }
        return true;
    }

    // ------------------------------------------------------------------ replay files

    private static final ObjectMapper JSON = new ObjectMapper();

    /** The history as JSON: {"seed": S, "manual_protect": B, "ops": [{"op": "GuestRead", "args": [2, 1, 0]}, ...]}. */
    public ObjectNode toJson() {
        ObjectNode root = JSON.createObjectNode();
        root.put("seed", seed);
        root.put("manual_protect", manualProtect);
        ArrayNode arr = root.putArray("ops");
        for (Op op : ops) {
            ObjectNode o = arr.addObject();
            o.put("op", op.kind());
            ArrayNode args = o.putArray("args");
            for (Object a : op.args()) {
                if (a instanceof Integer i) {
                    args.add(i);
                } else if (a instanceof Long l) {
                    args.add(l);
                } else {
                    args.add((Boolean) a);
                }
            }
        }
        return root;
    }

    public void write(Path file) throws IOException {
        JSON.writerWithDefaultPrettyPrinter().writeValue(file.toFile(), toJson());
    }

    /** Reads a replay file {@link #write} made; a malformed one is an IllegalArgumentException naming what is wrong. */
    public static History read(Path file) throws IOException {
        JsonNode root = JSON.readTree(file.toFile());
        if (root == null || !root.has("ops") || !root.get("ops").isArray()) {
            throw new IllegalArgumentException(file + ": not a conformance history (no \"ops\" array)");
        }
        List<Op> ops = new ArrayList<>();
        for (JsonNode o : root.get("ops")) {
            ops.add(op(o.path("op").asText(), o.path("args"), file));
        }
        return new History(root.path("seed").asLong(), root.path("manual_protect").asBoolean(), ops);
    }

    private static Op op(String kind, JsonNode args, Path file) {
        for (Class<?> c : Op.class.getPermittedSubclasses()) {
            if (!c.getSimpleName().equals(kind)) {
                continue;
            }
            RecordComponent[] rc = c.getRecordComponents();
            if (args.size() != rc.length) {
                throw new IllegalArgumentException(file + ": " + kind + " takes " + rc.length + " arguments, not " + args.size());
            }
            Object[] values = new Object[rc.length];
            Class<?>[] types = new Class<?>[rc.length];
            for (int i = 0; i < rc.length; i++) {
                types[i] = rc[i].getType();
                JsonNode a = args.get(i);
                values[i] = types[i] == int.class ? a.asInt() : types[i] == long.class ? a.asLong() : a.asBoolean();
            }
            try {
                Constructor<?> ctor = c.getDeclaredConstructor(types);
                return (Op) ctor.newInstance(values);
            } catch (ReflectiveOperationException e) {
                throw new IllegalStateException(e);
            }
        }
        throw new IllegalArgumentException(file + ": unknown step '" + kind + "'");
    }
}
