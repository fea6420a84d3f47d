package dev.quill.engine.grammar;

import java.util.Arrays;

/** An open-addressing map from long keys to non-negative int values; the hot lookups of the automaton. */
final class LongIntMap {
    static final int ABSENT = -1;

    private long[] keys;
    private int[] values;
    private int size;
    private int mask;
    /** Slots filled since the last clear or growth. */
    private final IntList used = new IntList();

    LongIntMap(int expected) {
        int capacity = Integer.highestOneBit(Math.max(16, expected * 2 - 1)) << 1;
        keys = new long[capacity];
        values = new int[capacity];
        Arrays.fill(values, ABSENT);
        mask = capacity - 1;
    }

    int get(long key) {
        for (int i = slot(key); ; i = (i + 1) & mask) {
            int v = values[i];
            if (v == ABSENT || keys[i] == key) return v;
        }
    }

    /** Stores {@code value} ({@code >= 0}) under {@code key}, replacing any previous value. */
    void put(long key, int value) {
        int i = slot(key);
        while (values[i] != ABSENT && keys[i] != key) i = (i + 1) & mask;
        if (values[i] == ABSENT) {
            size++;
            used.add(i);
        }
        keys[i] = key;
        values[i] = value;
        if (size * 2 > keys.length) grow();
    }

    /** Adds {@code key} with value 0; false if it was already there. */
    boolean add(long key) {
        if (get(key) != ABSENT) return false;
        put(key, 0);
        return true;
    }

    int size() {
        return size;
    }

    void clear() {
        if (size == 0) return;
        if (keys.length > 1024 && size < keys.length / 64) {
            // Few entries in a table grown large once: find them by their keys' slots rather than sweeping it.
            for (int i = 0; i < used.size(); i++) values[used.get(i)] = ABSENT;
        } else {
            Arrays.fill(values, ABSENT);
        }
        used.clear();
        size = 0;
    }

    private int slot(long key) {
        long h = key * 0x9E3779B97F4A7C15L;
        return (int) (h ^ (h >>> 29)) & mask;
    }

    private void grow() {
        long[] oldKeys = keys;
        int[] oldValues = values;
        keys = new long[oldKeys.length * 2];
        values = new int[oldKeys.length * 2];
        Arrays.fill(values, ABSENT);
        mask = keys.length - 1;
        size = 0;
        used.clear();
        for (int i = 0; i < oldKeys.length; i++) {
            if (oldValues[i] != ABSENT) put(oldKeys[i], oldValues[i]);
        }
    }
}
