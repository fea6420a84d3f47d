package dev.quill.engine.sampling;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Arrays;
import java.util.BitSet;
import org.junit.jupiter.api.Test;

class TokenMaskTest {

    private static final float NO = Float.NEGATIVE_INFINITY;

    @Test
    void aBitSetMaskAllowsItsSetBitsOnly() {
        var bits = new BitSet();
        bits.set(1);
        bits.set(3);
        float[] row = {5, 5, 5, 5, 5, 5};
        TokenMask.of(bits).disallowIn(row, 6);
        assertThat(row).containsExactly(NO, 5, NO, 5, NO, NO);
    }

    @Test
    void thePredicateDefaultAgreesWithTheBitSetFastPath() {
        var bits = new BitSet();
        for (int i = 0; i < 1000; i += 7) bits.set(i);
        float[] fast = new float[1000];
        float[] slow = new float[1000];
        TokenMask.of(bits).disallowIn(fast, 1000);
        ((TokenMask) bits::get).disallowIn(slow, 1000);
        assertThat(fast).containsExactly(slow);
        assertThat(fast[7]).isZero();
        assertThat(fast[8]).isEqualTo(NO);
    }

    @Test
    void onlyTheRowIsTouched() {
        float[] row = new float[8];
        TokenMask.allowing(0).disallowIn(row, 4);
        assertThat(Arrays.copyOfRange(row, 4, 8)).containsOnly(0f);
    }

    @Test
    void theBitSetIsReadLiveSoAGrammarCanRefillIt() {
        var bits = new BitSet();
        var mask = TokenMask.of(bits);
        bits.set(2);
        assertThat(mask.allows(2)).isTrue();
        bits.clear(2);
        assertThat(mask.allows(2)).isFalse();
    }

    @Test
    void negativeIdsAreRejected() {
        assertThatThrownBy(() -> TokenMask.allowing(1, -2)).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("token mask id must be >= 0, got -2");
    }
}
