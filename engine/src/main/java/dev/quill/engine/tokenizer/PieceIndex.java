package dev.quill.engine.tokenizer;

/**
 * Piece text → token id, looked up by a range of a larger string so the tokenizers' inner loops and the merge-table
 * build allocate no substrings. Open addressing over the pieces' {@code String.hashCode()} values, which a range
 * hash reproduces.
 */
final class PieceIndex {
    private final String[] pieces;
    private final int[] hashes;
    private final int[] slots; // id + 1, 0 = empty
    private final int mask;
    private final int firstDuplicate;

    /** Indexes {@code pieces}; a repeated piece keeps its first id and is reported by {@link #firstDuplicate()}. */
    PieceIndex(String[] pieces) {
        this.pieces = pieces;
        this.hashes = new int[pieces.length];
        int capacity = Integer.highestOneBit(Math.max(4, pieces.length * 2) - 1) << 1;
        this.slots = new int[capacity];
        this.mask = capacity - 1;
        int duplicate = -1;
        for (int id = 0; id < pieces.length; id++) {
            int h = pieces[id].hashCode();
            hashes[id] = h;
            int i = spread(h) & mask;
            while (slots[i] != 0 && !(hashes[slots[i] - 1] == h && pieces[slots[i] - 1].equals(pieces[id]))) {
                i = (i + 1) & mask;
            }
            if (slots[i] == 0) slots[i] = id + 1;
            else if (duplicate < 0) duplicate = id;
        }
        this.firstDuplicate = duplicate;
    }

    /** Mixes all bits of a String hash into the low ones (MurmurHash3's finaliser). */
    private static int spread(int h) {
        h ^= h >>> 16;
        h *= 0x85EBCA6B;
        h ^= h >>> 13;
        h *= 0xC2B2AE35;
        return h ^ (h >>> 16);
    }

    /** The first id whose piece repeats an earlier one, or -1. */
    int firstDuplicate() {
        return firstDuplicate;
    }

    int id(String piece) {
        return id(piece, 0, piece.length());
    }

    /** The id of the piece equal to {@code s[from, to)}, or -1. */
    int id(String s, int from, int to) {
        int h = 0;
        for (int k = from; k < to; k++) h = 31 * h + s.charAt(k);
        int length = to - from;
        for (int i = spread(h) & mask; slots[i] != 0; i = (i + 1) & mask) {
            int id = slots[i] - 1;
            if (hashes[id] == h && pieces[id].length() == length && pieces[id].regionMatches(0, s, from, length)) {
                return id;
            }
        }
        return -1;
    }

    /** The id of the piece equal to {@code s[from, gap) + s[gap + 1, to)} (the text with one char left out), or -1. */
    int idSkipping(String s, int from, int gap, int to) {
        int h = 0;
        for (int k = from; k < to; k++) if (k != gap) h = 31 * h + s.charAt(k);
        int leftLength = gap - from;
        int length = to - from - 1;
        for (int i = spread(h) & mask; slots[i] != 0; i = (i + 1) & mask) {
            int id = slots[i] - 1;
            String p = pieces[id];
            if (hashes[id] == h && p.length() == length && p.regionMatches(0, s, from, leftLength)
                    && p.regionMatches(leftLength, s, gap + 1, length - leftLength)) {
                return id;
            }
        }
        return -1;
    }
}
