package dev.quill.engine.sampling;

import java.security.SecureRandom;

/**
 * The xoshiro256** generator of Blackman and Vigna, seeded from one 64-bit value through SplitMix64 as its authors
 * recommend. Written out here, rather than using {@code java.util.Random}, so that a request's seed gives the same
 * tokens on every JVM and every future version of Quill: the output sequence is part of the API.
 *
 * <p>Not thread-safe: each sequence owns one.
 */
public final class Xoshiro256StarStar {

    private static final SecureRandom ENTROPY = new SecureRandom();

    private long s0, s1, s2, s3;

    /** A generator whose state is the first four outputs of SplitMix64 started at {@code seed}. */
    public Xoshiro256StarStar(long seed) {
        long[] sm = {seed};
        s0 = splitMix64(sm);
        s1 = splitMix64(sm);
        s2 = splitMix64(sm);
        s3 = splitMix64(sm);
    }

    /** A generator with exactly this state (for test vectors); the state must not be all zero. */
    static Xoshiro256StarStar ofState(long s0, long s1, long s2, long s3) {
        if ((s0 | s1 | s2 | s3) == 0) throw new IllegalArgumentException("xoshiro256** state must not be all zero");
        var g = new Xoshiro256StarStar(0);
        g.s0 = s0;
        g.s1 = s1;
        g.s2 = s2;
        g.s3 = s3;
        return g;
    }

    /**
     * One step of SplitMix64: advances {@code state[0]} by the golden-ratio increment and returns the mixed value.
     * Its outputs are never all zero four times in a row, so they always make a valid xoshiro state.
     */
    static long splitMix64(long[] state) {
        long z = (state[0] += 0x9E3779B97F4A7C15L);
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    /** A seed for requests that did not give one: OS entropy mixed with the clock. */
    public static long freshSeed() {
        long[] sm = {ENTROPY.nextLong() ^ System.nanoTime()};
        return splitMix64(sm);
    }

    /** The next 64 random bits. */
    public long nextLong() {
        long result = Long.rotateLeft(s1 * 5, 7) * 9;
        long t = s1 << 17;
        s2 ^= s0;
        s3 ^= s1;
        s1 ^= s2;
        s0 ^= s3;
        s2 ^= t;
        s3 = Long.rotateLeft(s3, 45);
        return result;
    }

    /** A uniform double in [0, 1): the top 53 bits of {@link #nextLong()} scaled by 2^-53. */
    public double nextDouble() {
        return (nextLong() >>> 11) * 0x1.0p-53;
    }
}
