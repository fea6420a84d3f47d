package dev.quill.engine.grammar;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * Lowers a set of code points to byte level: a list of sequences of byte ranges such that the UTF-8 encoding of a
 * code point matches one sequence (byte by byte, each byte inside its range) exactly when the code point is in the
 * set, and no other byte string matches any sequence. This is how character classes over Unicode become a grammar
 * over bytes, so that a token may end in the middle of a character.
 *
 * <p>Method (as in RE2 and Rust's utf8-ranges): split the range where the encoded length changes, then wherever the
 * low 6·i bits of its two ends are not "all zeros" and "all ones", until each piece is a cross product of byte
 * ranges.
 */
final class Utf8Sequences {

    private static final int[] LENGTH_LIMITS = {0x7F, 0x7FF, 0xFFFF};

    private Utf8Sequences() {}

    /** Each element is {@code [lo0, hi0, lo1, hi1, ...]}, one pair per byte; sorted by their bytes. */
    static List<int[]> of(Chars chars) {
        List<int[]> out = new ArrayList<>();
        for (int r = 0; r < chars.rangeCount(); r++) split(chars.lo(r), chars.hi(r), out);
        out.sort(Comparator.comparingInt((int[] s) -> s.length).thenComparingInt(s -> s[0]));
        return out;
    }

    private static void split(int lo, int hi, List<int[]> out) {
        for (int limit : LENGTH_LIMITS) {
            if (lo <= limit && hi > limit) {
                split(lo, limit, out);
                split(limit + 1, hi, out);
                return;
            }
        }
        if (hi <= 0x7F) {
            out.add(new int[] {lo, hi});
            return;
        }
        for (int i = 1; i < 4; i++) {
            int low = (1 << (6 * i)) - 1;
            if ((lo & ~low) == (hi & ~low)) continue;
            if ((lo & low) != 0) {
                split(lo, lo | low, out);
                split((lo | low) + 1, hi, out);
                return;
            }
            if ((hi & low) != low) {
                split(lo, (hi & ~low) - 1, out);
                split(hi & ~low, hi, out);
                return;
            }
        }
        byte[] a = encode(lo), b = encode(hi);
        int[] sequence = new int[2 * a.length];
        for (int k = 0; k < a.length; k++) {
            sequence[2 * k] = a[k] & 0xFF;
            sequence[2 * k + 1] = b[k] & 0xFF;
        }
        out.add(sequence);
    }

    static byte[] encode(int codePoint) {
        if (codePoint < 0x80) return new byte[] {(byte) codePoint};
        if (codePoint < 0x800) {
            return new byte[] {(byte) (0xC0 | codePoint >> 6), (byte) (0x80 | codePoint & 0x3F)};
        }
        if (codePoint < 0x10000) {
            return new byte[] {(byte) (0xE0 | codePoint >> 12), (byte) (0x80 | codePoint >> 6 & 0x3F),
                    (byte) (0x80 | codePoint & 0x3F)};
        }
        return new byte[] {(byte) (0xF0 | codePoint >> 18), (byte) (0x80 | codePoint >> 12 & 0x3F),
                (byte) (0x80 | codePoint >> 6 & 0x3F), (byte) (0x80 | codePoint & 0x3F)};
    }
}
