package dev.quill.engine.tokenizer;

import dev.quill.engine.gguf.GgufException;
import java.util.Arrays;
import java.util.stream.IntStream;

/**
 * BPE merge rules ({@code tokenizer.ggml.merges}, "left right" per line, earlier = higher priority) keyed by the
 * token ids of both sides, in an open-addressing hash table so a lookup costs no allocation.
 */
final class MergeTable {
    private static final long EMPTY = -1L;

    private final long[] keys;
    private final int[] ranks;
    private final int[] mergedIds;
    private final int mask;

    MergeTable(String[] merges, Vocabulary vocab) {
        int capacity = Integer.highestOneBit(Math.max(4, merges.length * 2) - 1) << 1;
        keys = new long[capacity];
        ranks = new int[capacity];
        mergedIds = new int[merges.length];
        mask = capacity - 1;
        Arrays.fill(keys, EMPTY);
        // Resolving the rules' pieces to ids is most of the work of loading a large vocabulary, and independent per
        // rule, so it runs in parallel; filling the table stays sequential so a repeated rule keeps its first rank.
        int[] lefts = new int[merges.length];
        int[] rights = new int[merges.length];
        IntStream.range(0, merges.length).parallel().forEach(rank -> {
            String merge = merges[rank];
            int space = merge.indexOf(' ', 1);
            if (space < 0) {
                throw new GgufException("tokenizer.ggml.merges[" + rank + "] = '" + merge + "' is not 'left right'");
            }
            lefts[rank] = vocab.id(merge, 0, space);
            rights[rank] = vocab.id(merge, space + 1, merge.length());
            mergedIds[rank] = vocab.idSkipping(merge, 0, space, merge.length());
        });
        for (int rank = 0; rank < merges.length; rank++) {
            // Symbols are always tokens here, so a rule whose sides or result are not tokens can never apply.
            if (lefts[rank] < 0 || rights[rank] < 0 || mergedIds[rank] < 0) continue;
            put(key(lefts[rank], rights[rank]), rank);
        }
    }

    private static long key(int left, int right) {
        return ((long) left << 32) | (right & 0xFFFFFFFFL);
    }

    private static int slot(long key, int mask) {
        long h = key * 0x9E3779B97F4A7C15L;
        return (int) (h >>> 40) & mask;
    }

    private void put(long key, int rank) {
        int i = slot(key, mask);
        while (keys[i] != EMPTY) {
            if (keys[i] == key) return; // a repeated rule keeps its first (higher-priority) rank
            i = (i + 1) & mask;
        }
        keys[i] = key;
        ranks[i] = rank;
    }

    /** The rank of the rule merging {@code left} and {@code right}, or -1. */
    int rank(int left, int right) {
        long key = key(left, right);
        for (int i = slot(key, mask); keys[i] != EMPTY; i = (i + 1) & mask) {
            if (keys[i] == key) return ranks[i];
        }
        return -1;
    }

    /** The token a rule of this rank produces. */
    int mergedId(int rank) {
        return mergedIds[rank];
    }
}
