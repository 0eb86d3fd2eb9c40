// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.harness.x86;

import java.util.HexFormat;

/** Golden bytes are written the way objdump prints them: space-separated hex pairs. */
final class Hex {
    private Hex() {
    }

    static byte[] bytes(String objdumpHex) {
        return HexFormat.of().parseHex(objdumpHex.replaceAll("\\s+", ""));
    }

    static String of(byte[] code) {
        return HexFormat.ofDelimiter(" ").formatHex(code);
    }
}
