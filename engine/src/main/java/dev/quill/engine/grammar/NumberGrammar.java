package dev.quill.engine.grammar;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.math.RoundingMode;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Exact grammars for JSON numbers within bounds, written in plain decimal notation (no exponent, no leading zeros,
 * no "-0"). Bounds are enforced digit by digit, the way one compares two decimal strings, so every generated number
 * lies within them; nothing is checked afterwards.
 *
 * <p>A side without a bound is capped for generation: integer parts have at most {@value #DEFAULT_DIGITS} digits
 * (exact in an IEEE double) unless a bound needs more, fractions at most {@value #DEFAULT_DIGITS} digits (or one
 * more than the longest fraction of a bound).
 */
final class NumberGrammar {

    static final int DEFAULT_DIGITS = 15;

    private static final Chars DIGIT = Chars.of('0', '9');
    private static final BigInteger DEFAULT_MAX = BigInteger.TEN.pow(DEFAULT_DIGITS).subtract(BigInteger.ONE);

    private NumberGrammar() {}

    /** Integers in {@code [lo, hi]}; a null bound is open. Returns null when no integer qualifies. */
    static Expr integer(BigInteger lo, BigInteger hi) {
        if (lo != null && hi != null && lo.compareTo(hi) > 0) return null;
        List<Expr> options = new ArrayList<>(2);
        if (hi == null || hi.signum() >= 0) {
            BigInteger from = lo == null ? BigInteger.ZERO : lo.max(BigInteger.ZERO);
            options.add(naturals(from, hi));
        }
        if (lo == null || lo.signum() < 0) {
            // -m for m in [max(1, -hi), -lo]
            BigInteger from = hi == null ? BigInteger.ONE : hi.negate().max(BigInteger.ONE);
            options.add(Expr.seq(new Expr.Literal("-"), naturals(from, lo == null ? null : lo.negate())));
        }
        return Expr.alt(options);
    }

    /**
     * Numbers in the interval from {@code lo} to {@code hi} (null: open), each end inclusive or not. Returns null
     * when no number qualifies.
     */
    static Expr number(BigDecimal lo, boolean loInclusive, BigDecimal hi, boolean hiInclusive) {
        if (lo != null && hi != null) {
            int c = lo.compareTo(hi);
            if (c > 0 || c == 0 && !(loInclusive && hiInclusive)) return null;
        }
        int fractionDigits = DEFAULT_DIGITS;
        for (BigDecimal bound : new BigDecimal[] {lo, hi}) {
            if (bound != null) fractionDigits = Math.max(fractionDigits, Math.max(0, bound.stripTrailingZeros().scale()) + 1);
        }
        List<Expr> options = new ArrayList<>(2);
        if (hi == null || hi.signum() > 0 || hi.signum() == 0 && hiInclusive) {
            boolean fromZero = lo == null || lo.signum() < 0;
            Expr nonNegative = magnitudes(fromZero ? BigDecimal.ZERO : lo, fromZero || loInclusive, hi, hiInclusive, fractionDigits);
            if (nonNegative != null) options.add(nonNegative);
        }
        if (lo == null || lo.signum() < 0) {
            // -m for m from max(0, -hi) (exclusive at 0: no "-0") up to -lo
            boolean fromZero = hi == null || hi.signum() >= 0;
            Expr m = magnitudes(fromZero ? BigDecimal.ZERO : hi.negate(), !fromZero && hiInclusive,
                    lo == null ? null : lo.negate(), loInclusive, fractionDigits);
            if (m != null) options.add(Expr.seq(new Expr.Literal("-"), m));
        }
        return options.isEmpty() ? null : Expr.alt(options);
    }

    /** Non-negative numbers between {@code a >= 0} and {@code b} (null: no upper bound). Null when none. */
    private static Expr magnitudes(BigDecimal a, boolean aInclusive, BigDecimal b, boolean bInclusive, int fractionDigits) {
        BigInteger a0 = a.setScale(0, RoundingMode.FLOOR).toBigIntegerExact();
        String af = fractionDigits(a);
        List<Expr> options = new ArrayList<>(3);
        Fractions fractions = new Fractions(fractionDigits);
        if (b != null) {
            int c = a.compareTo(b);
            if (c > 0 || c == 0 && !(aInclusive && bInclusive)) return null;
            BigInteger b0 = b.setScale(0, RoundingMode.FLOOR).toBigIntegerExact();
            String bf = fractionDigits(b);
            if (a0.equals(b0)) {
                add(options, a0, fractions.between(af, aInclusive, bf, bInclusive));
                return options.isEmpty() ? null : Expr.alt(options);
            }
            add(options, a0, fractions.between(af, aInclusive, null, false));
            if (a0.add(BigInteger.ONE).compareTo(b0.subtract(BigInteger.ONE)) <= 0) {
                options.add(Expr.seq(naturals(a0.add(BigInteger.ONE), b0.subtract(BigInteger.ONE)), fractions.between(null, false, null, false)));
            }
            add(options, b0, fractions.between(null, false, bf, bInclusive));
        } else {
            add(options, a0, fractions.between(af, aInclusive, null, false));
            options.add(Expr.seq(naturals(a0.add(BigInteger.ONE), null), fractions.between(null, false, null, false)));
        }
        return options.isEmpty() ? null : Expr.alt(options);
    }

    private static void add(List<Expr> options, BigInteger integerPart, Expr fraction) {
        if (fraction != null) options.add(Expr.seq(new Expr.Literal(integerPart.toString()), fraction));
    }

    /** The digits after the point, without trailing zeros ("" for an integer). */
    private static String fractionDigits(BigDecimal x) {
        BigDecimal f = x.subtract(new BigDecimal(x.setScale(0, RoundingMode.FLOOR).toBigIntegerExact())).stripTrailingZeros();
        if (f.signum() == 0) return "";
        String s = f.toPlainString(); // "0.xyz"
        return s.substring(2);
    }

    /** Decimal integers (no leading zeros) in {@code [a, b]}, {@code a >= 0}; b null: up to a digit cap. */
    static Expr naturals(BigInteger a, BigInteger b) {
        if (b == null) {
            int digits = Math.max(DEFAULT_DIGITS, a.toString().length());
            b = digits == DEFAULT_DIGITS ? DEFAULT_MAX : BigInteger.TEN.pow(digits).subtract(BigInteger.ONE);
        }
        List<Expr> options = new ArrayList<>();
        int from = a.toString().length(), to = b.toString().length();
        for (int length = from; length <= to; length++) {
            BigInteger smallest = length == 1 ? BigInteger.ZERO : BigInteger.TEN.pow(length - 1);
            BigInteger largest = BigInteger.TEN.pow(length).subtract(BigInteger.ONE);
            BigInteger lo = a.max(smallest), hi = b.min(largest);
            if (lo.compareTo(hi) <= 0) options.add(sameLength(lo.toString(), hi.toString()));
        }
        return Expr.alt(options);
    }

    /** Digit strings of one length between {@code x} and {@code y} (inclusive, {@code x <= y}). */
    private static Expr sameLength(String x, String y) {
        if (x.isEmpty()) return Expr.EMPTY;
        if (x.equals(y)) return new Expr.Literal(x);
        char x0 = x.charAt(0), y0 = y.charAt(0);
        String xr = x.substring(1), yr = y.substring(1);
        if (x0 == y0) return Expr.seq(new Expr.Literal(String.valueOf(x0)), sameLength(xr, yr));
        boolean fromFull = xr.chars().allMatch(c -> c == '0');
        boolean toFull = yr.chars().allMatch(c -> c == '9');
        List<Expr> options = new ArrayList<>(3);
        if (!fromFull) options.add(Expr.seq(new Expr.Literal(String.valueOf(x0)), sameLength(xr, "9".repeat(xr.length()))));
        char first = fromFull ? x0 : (char) (x0 + 1), last = toFull ? y0 : (char) (y0 - 1);
        if (first <= last) options.add(digitsAfter(Chars.of(first, last), xr.length()));
        if (!toFull) options.add(Expr.seq(new Expr.Literal(String.valueOf(y0)), sameLength("0".repeat(yr.length()), yr)));
        return Expr.alt(options);
    }

    private static Expr digitsAfter(Chars lead, int count) {
        return count == 0 ? lead : Expr.seq(lead, Expr.repeat(DIGIT, count, count));
    }

    /**
     * The optional fraction {@code ("." digits)?} of a number whose integer part is fixed, such that the fraction's
     * value {@code 0.F} lies above a lower bound {@code 0.g} and below an upper bound {@code 0.h}. Built by walking
     * the digits: each digit either keeps a bound pending (it equals the bound's digit), settles it (it is on the
     * right side), or breaks it; equal pending states share one expression.
     */
    private static final class Fractions {
        private final int maxDigits;
        private final Map<String, Digits> memo = new HashMap<>();

        Fractions(int maxDigits) {
            this.maxDigits = maxDigits;
        }

        /** What follows a state: may the digits end here, and what digit strings (at least one digit) may follow. */
        private record Digits(boolean mayEnd, Expr more) {}

        /** Null bounds are open; the result is null when no fraction qualifies. */
        Expr between(String g, boolean gInclusive, String h, boolean hInclusive) {
            Digits d = digits(lower(g, gInclusive), upper(h, hInclusive), maxDigits);
            if (d == null) return null;
            List<Expr> options = new ArrayList<>(2);
            if (d.mayEnd) options.add(Expr.EMPTY);
            if (d.more != null) options.add(Expr.seq(new Expr.Literal("."), d.more));
            return options.isEmpty() ? null : Expr.alt(options);
        }

        // A pending bound is its remaining digits plus 'i' (inclusive) or 'x' (exclusive); null when settled.
        private static String lower(String g, boolean inclusive) {
            if (g == null || g.isEmpty() && inclusive) return null; // 0.F >= 0 always holds
            return g + (inclusive ? 'i' : 'x');
        }

        private static String upper(String h, boolean inclusive) {
            return h == null ? null : h + (inclusive ? 'i' : 'x');
        }

        /** Null when nothing qualifies. */
        private Digits digits(String lower, String upper, int left) {
            String key = lower + "|" + upper + "|" + left;
            if (memo.containsKey(key)) return memo.get(key);
            Digits result = compute(lower, upper, left);
            memo.put(key, result);
            return result;
        }

        private Digits compute(String lower, String upper, int left) {
            boolean mayEnd = endsAbove(lower) && endsBelow(upper);
            List<Expr> options = new ArrayList<>();
            if (left > 0) {
                int d = 0;
                while (d <= 9) {
                    String l = nextLower(lower, d), u = nextUpper(upper, d);
                    int e = d;
                    while (e < 9 && same(l, nextLower(lower, e + 1)) && same(u, nextUpper(upper, e + 1))) e++;
                    if (!BROKEN.equals(l) && !BROKEN.equals(u)) {
                        Digits rest = digits(l, u, left - 1);
                        if (rest != null) {
                            List<Expr> after = new ArrayList<>(2);
                            if (rest.mayEnd) after.add(Expr.EMPTY);
                            if (rest.more != null) after.add(rest.more);
                            options.add(Expr.seq(Chars.of('0' + d, '0' + e), Expr.alt(after)));
                        }
                    }
                    d = e + 1;
                }
            }
            Expr more = options.isEmpty() ? null : Expr.alt(options);
            return mayEnd || more != null ? new Digits(mayEnd, more) : null;
        }

        private static final String BROKEN = "broken";

        private static boolean same(String a, String b) {
            return a == null ? b == null : a.equals(b);
        }

        /** Ending now means the rest of F is zeros: 0 >= 0.g' holds iff g' is empty (then equality: inclusive). */
        private static boolean endsAbove(String lower) {
            return lower == null; // a pending inclusive empty bound is settled (null) already
        }

        /** 0 <= 0.h' holds iff h' is non-empty or the bound is inclusive. */
        private static boolean endsBelow(String upper) {
            return upper == null || upper.length() > 1 || upper.charAt(0) == 'i';
        }

        private static String nextLower(String lower, int d) {
            if (lower == null) return null;
            String g = lower.substring(0, lower.length() - 1);
            char flag = lower.charAt(lower.length() - 1);
            if (g.isEmpty()) return d > 0 ? null : lower; // exclusive zero bound: settled by a non-zero digit
            int gd = g.charAt(0) - '0';
            if (d > gd) return null;
            if (d < gd) return BROKEN;
            return lower(g.substring(1), flag == 'i');
        }

        private static String nextUpper(String upper, int d) {
            if (upper == null) return null;
            String h = upper.substring(0, upper.length() - 1);
            char flag = upper.charAt(upper.length() - 1);
            if (h.isEmpty()) return d == 0 && flag == 'i' ? upper : BROKEN; // only zeros keep 0.F <= 0
            int hd = h.charAt(0) - '0';
            if (d < hd) return null;
            if (d > hd) return BROKEN;
            return upper(h.substring(1), flag == 'i');
        }
    }
}
