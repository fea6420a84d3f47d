package dev.quill.engine.grammar;

import java.util.Arrays;

/**
 * A set of Unicode code points, kept as sorted, disjoint, non-adjacent closed ranges. Surrogates (U+D800..U+DFFF)
 * are never members: they cannot appear in UTF-8 text, so every set operation leaves them out.
 */
public final class Chars implements Expr {

    public static final int MAX_CODE_POINT = Character.MAX_CODE_POINT;

    /** Every code point (a GBNF {@code .} or a negated empty class). */
    public static final Chars ANY = of(0, MAX_CODE_POINT);

    public static final Chars NONE = new Chars(new int[0]);

    /** {@code [lo0, hi0, lo1, hi1, ...]}, normalised. */
    private final int[] ranges;

    private Chars(int[] normalisedRanges) {
        this.ranges = normalisedRanges;
    }

    /** The code points {@code lo..hi} (inclusive). */
    public static Chars of(int lo, int hi) {
        return ranges(lo, hi);
    }

    /** A single code point. */
    public static Chars of(int codePoint) {
        return ranges(codePoint, codePoint);
    }

    /** Every code point of {@code text}. */
    public static Chars anyOf(String text) {
        return ranges(text.codePoints().flatMap(c -> java.util.stream.IntStream.of(c, c)).toArray());
    }

    /**
     * The union of the ranges {@code [pairs[0], pairs[1]], [pairs[2], pairs[3]], ...}, in any order, overlapping or
     * not.
     *
     * @throws IllegalArgumentException on an odd count, a reversed range, or a value outside 0..U+10FFFF
     */
    public static Chars ranges(int... pairs) {
        if (pairs.length % 2 != 0) throw new IllegalArgumentException("ranges need an even number of bounds");
        long[] sorted = new long[pairs.length / 2];
        for (int i = 0; i < sorted.length; i++) {
            int lo = pairs[2 * i], hi = pairs[2 * i + 1];
            if (lo < 0 || hi > MAX_CODE_POINT || lo > hi) {
                throw new IllegalArgumentException("bad code point range " + hex(lo) + ".." + hex(hi));
            }
            sorted[i] = ((long) lo << 32) | hi;
        }
        Arrays.sort(sorted);
        int[] out = new int[pairs.length + 2];
        int n = 0;
        for (long range : sorted) {
            int lo = (int) (range >>> 32), hi = (int) range;
            if (n > 0 && lo <= out[n - 1] + 1) {
                out[n - 1] = Math.max(out[n - 1], hi);
            } else {
                out[n++] = lo;
                out[n++] = hi;
            }
        }
        return new Chars(withoutSurrogates(Arrays.copyOf(out, n)));
    }

    private static int[] withoutSurrogates(int[] r) {
        int[] out = new int[r.length + 2];
        int n = 0;
        for (int i = 0; i < r.length; i += 2) {
            int lo = r[i], hi = r[i + 1];
            if (hi < Character.MIN_SURROGATE || lo > Character.MAX_SURROGATE) {
                out[n++] = lo;
                out[n++] = hi;
                continue;
            }
            if (lo < Character.MIN_SURROGATE) {
                out[n++] = lo;
                out[n++] = Character.MIN_SURROGATE - 1;
            }
            if (hi > Character.MAX_SURROGATE) {
                out[n++] = Character.MAX_SURROGATE + 1;
                out[n++] = hi;
            }
        }
        return Arrays.copyOf(out, n);
    }

    /** Every code point not in this set. */
    public Chars negate() {
        int[] out = new int[ranges.length + 2];
        int n = 0, next = 0;
        for (int i = 0; i < ranges.length; i += 2) {
            if (ranges[i] > next) {
                out[n++] = next;
                out[n++] = ranges[i] - 1;
            }
            next = ranges[i + 1] + 1;
        }
        if (next <= MAX_CODE_POINT) {
            out[n++] = next;
            out[n++] = MAX_CODE_POINT;
        }
        return new Chars(withoutSurrogates(Arrays.copyOf(out, n)));
    }

    public Chars union(Chars other) {
        int[] both = Arrays.copyOf(ranges, ranges.length + other.ranges.length);
        System.arraycopy(other.ranges, 0, both, ranges.length, other.ranges.length);
        return ranges(both);
    }

    public Chars minus(Chars other) {
        return negate().union(other).negate();
    }

    public Chars intersect(Chars other) {
        return negate().union(other.negate()).negate();
    }

    public boolean contains(int codePoint) {
        int i = Arrays.binarySearch(ranges, codePoint);
        if (i >= 0) return true;
        int insertion = -i - 1;
        return insertion % 2 == 1; // between a lo and its hi
    }

    public boolean isEmpty() {
        return ranges.length == 0;
    }

    /** The number of ranges. */
    public int rangeCount() {
        return ranges.length / 2;
    }

    public int lo(int range) {
        return ranges[2 * range];
    }

    public int hi(int range) {
        return ranges[2 * range + 1];
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Chars c && Arrays.equals(ranges, c.ranges);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(ranges);
    }

    /** GBNF class syntax, e.g. {@code [a-z0-9_]}. */
    @Override
    public String toString() {
        StringBuilder b = new StringBuilder("[");
        for (int i = 0; i < ranges.length; i += 2) {
            b.append(GbnfParser.escapeInClass(ranges[i]));
            if (ranges[i + 1] > ranges[i]) b.append('-').append(GbnfParser.escapeInClass(ranges[i + 1]));
        }
        return b.append(']').toString();
    }

    private static String hex(int codePoint) {
        return "U+%04X".formatted(codePoint);
    }
}
