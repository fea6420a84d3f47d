package dev.quill.engine.sampling;

import java.util.Arrays;

/**
 * The distinct tokens a sequence has seen, each with how often it was generated (prompt tokens are present with a
 * count of 0). Sized by the sequence, not the vocabulary: a 150k-token vocabulary would otherwise cost every
 * sequence a 600 KB count array. Open addressing over dense parallel arrays, so that iteration is a plain loop.
 */
final class TokenCounts {

    private int[] slots = new int[64];          // index + 1 into tokens/counts; 0 = empty
    private int[] tokens = new int[32];
    private int[] counts = new int[32];
    private int size;

    /** Adds {@code token} if absent, then adds {@code generated} to its count. */
    void add(int token, int generated) {
        int mask = slots.length - 1;
        int slot = hash(token) & mask;
        while (slots[slot] != 0) {
            int index = slots[slot] - 1;
            if (tokens[index] == token) {
                counts[index] += generated;
                return;
            }
            slot = (slot + 1) & mask;
        }
        if (size == tokens.length) {
            tokens = Arrays.copyOf(tokens, size * 2);
            counts = Arrays.copyOf(counts, size * 2);
        }
        tokens[size] = token;
        counts[size] = generated;
        slots[slot] = ++size;
        if (size * 2 > slots.length) rehash(slots.length * 2);
    }

    int size() {
        return size;
    }

    int token(int index) {
        return tokens[index];
    }

    int count(int index) {
        return counts[index];
    }

    private void rehash(int capacity) {
        slots = new int[capacity];
        int mask = capacity - 1;
        for (int index = 0; index < size; index++) {
            int slot = hash(tokens[index]) & mask;
            while (slots[slot] != 0) slot = (slot + 1) & mask;
            slots[slot] = index + 1;
        }
    }

    private static int hash(int token) {
        int h = token * 0x9E3779B9;   // Fibonacci hashing: consecutive ids spread over the table
        return h ^ (h >>> 16);
    }
}
