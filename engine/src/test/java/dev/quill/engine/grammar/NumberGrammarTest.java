package dev.quill.engine.grammar;

import static org.assertj.core.api.Assertions.assertThat;

import java.math.BigInteger;
import java.util.Random;
import org.junit.jupiter.api.Test;

class NumberGrammarTest {

    private static boolean matches(Expr e, String text) {
        GrammarMatcher m = Grammar.of(e).matcher();
        return m.acceptString(text) && m.isComplete();
    }

    @Test
    void integerRangesMatchExactlyTheirMembers() {
        Random random = new Random(7);
        for (int trial = 0; trial < 60; trial++) {
            long lo = random.nextInt(4000) - 2000, hi = lo + random.nextInt(trial % 4 == 0 ? 30 : 3000);
            boolean openLo = trial % 7 == 0, openHi = trial % 5 == 0;
            Expr e = NumberGrammar.integer(openLo ? null : BigInteger.valueOf(lo), openHi ? null : BigInteger.valueOf(hi));
            Grammar g = Grammar.of(e);
            for (long x = -2100; x <= 5100; x += 1 + random.nextInt(3)) {
                GrammarMatcher m = g.matcher();
                boolean expected = (openLo || x >= lo) && (openHi || x <= hi);
                assertThat(m.acceptString(Long.toString(x)) && m.isComplete()).as("%d in [%s, %s]", x, openLo ? "-inf" : lo, openHi ? "inf" : hi)
                        .isEqualTo(expected);
            }
        }
    }

    @Test
    void boundsBeyondTheDefaultCapStillWork() {
        BigInteger big = new BigInteger("123456789012345678901");
        Expr e = NumberGrammar.integer(big, null);
        assertThat(matches(e, "123456789012345678901")).isTrue();
        assertThat(matches(e, "123456789012345678900")).isFalse();
        assertThat(matches(e, "999999999999999999999")).isTrue();
    }

    @Test
    void anEmptyRangeHasNoGrammar() {
        assertThat(NumberGrammar.integer(BigInteger.TEN, BigInteger.ONE)).isNull();
        assertThat(NumberGrammar.number(java.math.BigDecimal.ONE, false, java.math.BigDecimal.ONE, true)).isNull();
    }
}
