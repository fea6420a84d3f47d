package dev.quill.engine.sampling;

import java.util.BitSet;
import java.util.Objects;

/**
 * Which tokens may be chosen at one step (constrained decoding: grammars, JSON schemas, stop-word tricks). A
 * {@link Sampler} applies it before every other step, so a disallowed token can be neither biased nor penalised back
 * into play.
 */
@FunctionalInterface
public interface TokenMask {

    boolean allows(int token);

    /** Sets the logit of every disallowed token in {@code row[0 .. vocab)} to negative infinity. */
    default void disallowIn(float[] row, int vocab) {
        for (int token = 0; token < vocab; token++) {
            if (!allows(token)) row[token] = Float.NEGATIVE_INFINITY;
        }
    }

    /**
     * The tokens whose bit is set are allowed; tokens at or past {@code allowed.length()} are not. The set is read
     * live, not copied (a grammar can refill one set every step); do not change it during a {@code sample} call.
     */
    static TokenMask of(BitSet allowed) {
        BitSet bits = Objects.requireNonNull(allowed, "allowed");
        return new TokenMask() {
            @Override
            public boolean allows(int token) {
                return bits.get(token);
            }

            @Override
            public void disallowIn(float[] row, int vocab) {
                for (int token = bits.nextClearBit(0); token < vocab; token = bits.nextClearBit(token + 1)) {
                    row[token] = Float.NEGATIVE_INFINITY;
                }
            }
        };
    }

    /** Only the given token ids are allowed. */
    static TokenMask allowing(int... tokens) {
        var bits = new BitSet();
        for (int token : tokens) {
            if (token < 0) throw new IllegalArgumentException("token mask id must be >= 0, got " + token);
            bits.set(token);
        }
        return of(bits);
    }
}
