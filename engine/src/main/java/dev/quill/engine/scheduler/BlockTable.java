package dev.quill.engine.scheduler;

import java.util.Arrays;

/**
 * One sequence's KV blocks in logical order (block {@code i} holds positions {@code i*blockSize ..}), plus where its
 * prefix-cache hash chain stands. Mutated only by {@link BlockManager}.
 */
public final class BlockTable {
    private int[] ids = new int[8];
    private int size;

    /** Leading blocks that are registered in the prefix cache (or equal to a registered block). */
    int hashedBlocks;
    /** Hash of all tokens of the first {@link #hashedBlocks} blocks. */
    long chainHash;
    /** Cache identity of the last hashed block (0 for none); a child block is only reachable through it. */
    long chainId;
    /** A hash collision stopped this table from registering further blocks. */
    boolean chainBroken;

    public int size() {
        return size;
    }

    public int get(int index) {
        if (index < 0 || index >= size) {
            throw new IllegalArgumentException("block index " + index + " outside table of " + size + " blocks");
        }
        return ids[index];
    }

    /** The block ids as the model wants them in a {@link dev.quill.engine.model.SequenceChunk}. */
    public int[] toArray() {
        return Arrays.copyOf(ids, size);
    }

    void add(int id) {
        if (size == ids.length) ids = Arrays.copyOf(ids, size * 2);
        ids[size++] = id;
    }

    void set(int index, int id) {
        ids[index] = id;
    }

    void clear() {
        size = 0;
        hashedBlocks = 0;
        chainHash = 0;
        chainId = 0;
        chainBroken = false;
    }

    void copyFrom(BlockTable other) {
        ids = Arrays.copyOf(other.ids, Math.max(8, other.size));
        size = other.size;
        hashedBlocks = other.hashedBlocks;
        chainHash = other.chainHash;
        chainId = other.chainId;
        chainBroken = other.chainBroken;
    }

    @Override
    public String toString() {
        return Arrays.toString(toArray());
    }
}
