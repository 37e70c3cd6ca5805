package org.libgptq;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/** Strings cross to C as NUL-terminated UTF-8 (used by the generated code). */
final class Utf8 {
    private Utf8() {}

    static byte[] encode(String s) {
        if (s == null) return null;
        byte[] bytes = s.getBytes(StandardCharsets.UTF_8);
        return Arrays.copyOf(bytes, bytes.length + 1);
    }

    static String decode(byte[] bytes) {
        return bytes == null ? null : new String(bytes, StandardCharsets.UTF_8);
    }
}
