package dev.quill.engine.grammar;

/**
 * Strict UTF-8 well-formedness, one byte at a time (the Unicode standard's table: no overlong forms, no surrogates,
 * nothing above U+10FFFF). A state is {@link #BOUNDARY} between characters, {@link #INVALID} after an ill-formed
 * byte, or else {@code remaining << 16 | lo << 8 | hi}: the continuation bytes still due and the range of the next.
 */
final class Utf8Check {
    static final int BOUNDARY = 0;
    static final int INVALID = -1;

    private Utf8Check() {}

    static int step(int state, int b) {
        if (state == INVALID) return INVALID;
        if (state == BOUNDARY) {
            if (b < 0x80) return BOUNDARY;
            if (b >= 0xC2 && b <= 0xDF) return need(1, 0x80, 0xBF);
            if (b == 0xE0) return need(2, 0xA0, 0xBF);
            if (b == 0xED) return need(2, 0x80, 0x9F);
            if (b >= 0xE1 && b <= 0xEF) return need(2, 0x80, 0xBF);
            if (b == 0xF0) return need(3, 0x90, 0xBF);
            if (b == 0xF4) return need(3, 0x80, 0x8F);
            if (b >= 0xF1 && b <= 0xF3) return need(3, 0x80, 0xBF);
            return INVALID;
        }
        int remaining = state >>> 16, lo = state >>> 8 & 0xFF, hi = state & 0xFF;
        if (b < lo || b > hi) return INVALID;
        return remaining == 1 ? BOUNDARY : need(remaining - 1, 0x80, 0xBF);
    }

    private static int need(int remaining, int lo, int hi) {
        return remaining << 16 | lo << 8 | hi;
    }
}
