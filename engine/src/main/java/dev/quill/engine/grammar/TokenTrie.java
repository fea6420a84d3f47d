package dev.quill.engine.grammar;

import dev.quill.engine.tokenizer.Tokenizer;
import java.util.Arrays;
import java.util.Map;
import java.util.WeakHashMap;

/**
 * The byte prefix tree of a vocabulary, flattened in pre-order so that a mask computation is one forward scan that
 * jumps over every subtree the grammar rules out. Built once per {@link Tokenizer} instance and cached.
 *
 * <p>Node {@code i} (the root is implicit) has the byte {@code label[i]} at depth {@code depth[i]} (1 for a token's
 * first byte); the nodes of its subtree are {@code i + 1 .. skip[i] - 1}; the tokens whose bytes end exactly there
 * are {@code tokens[tokenOffset[i] .. tokenOffset[i + 1])} (several when two tokens spell the same bytes, such as a
 * byte-fallback token and a normal one).
 *
 * <p>Special tokens (control and unknown ones), end-of-generation tokens and tokens without bytes are not in the
 * trie: text-generating grammars never allow them. End-of-generation tokens are listed separately; a matcher allows
 * them exactly when its grammar is complete.
 */
final class TokenTrie {

    private static final Map<Tokenizer, TokenTrie> CACHE = new WeakHashMap<>();

    final int vocabSize;
    final byte[] label;
    final int[] depth;
    final int[] skip;
    final int[] tokenOffset;
    final int[] tokens;
    final int[] endOfGeneration;
    final int maxDepth;
    /** Per token id, its bytes when it is in the trie, else null. */
    private final byte[][] tokenBytes;

    /** The trie of {@code tokenizer}'s vocabulary, built on first use. */
    static TokenTrie of(Tokenizer tokenizer) {
        synchronized (CACHE) {
            return CACHE.computeIfAbsent(tokenizer, TokenTrie::new);
        }
    }

    private TokenTrie(Tokenizer tokenizer) {
        vocabSize = tokenizer.vocabSize();
        endOfGeneration = tokenizer.endOfGenerationIds().stream().mapToInt(Integer::intValue).sorted().toArray();
        tokenBytes = new byte[vocabSize][];
        int count = 0;
        for (int id = 0; id < vocabSize; id++) {
            if (tokenizer.isSpecial(id) || Arrays.binarySearch(endOfGeneration, id) >= 0) continue;
            byte[] bytes = tokenizer.tokenBytes(id);
            if (bytes.length == 0) continue;
            tokenBytes[id] = bytes;
            count++;
        }
        Integer[] order = new Integer[count];
        for (int id = 0, k = 0; id < vocabSize; id++) {
            if (tokenBytes[id] != null) order[k++] = id;
        }
        Arrays.sort(order, (a, b) -> {
            int c = Arrays.compareUnsigned(tokenBytes[a], tokenBytes[b]);
            return c != 0 ? c : Integer.compare(a, b);
        });

        // Pre-order layout: a token shares its first lcp nodes with the previous one and opens new nodes after them.
        var labels = new IntList(count * 3);
        var depths = new IntList(count * 3);
        int[] tokenNode = new int[count];
        int[] path = new int[1];
        byte[] previous = new byte[0];
        int longest = 0;
        for (int k = 0; k < count; k++) {
            byte[] bytes = tokenBytes[order[k]];
            int common = Arrays.mismatch(previous, bytes);
            if (common < 0) common = bytes.length; // the same bytes as the previous token
            if (bytes.length >= path.length) path = Arrays.copyOf(path, bytes.length * 2 + 1);
            for (int d = common + 1; d <= bytes.length; d++) {
                path[d] = labels.size();
                labels.add(bytes[d - 1]);
                depths.add(d);
            }
            tokenNode[k] = path[bytes.length];
            previous = bytes;
            longest = Math.max(longest, bytes.length);
        }
        int n = labels.size();
        label = new byte[n];
        depth = depths.toArray();
        for (int i = 0; i < n; i++) label[i] = (byte) labels.get(i);
        maxDepth = longest;

        // A subtree ends at the next node that is not deeper.
        skip = new int[n];
        int[] open = new int[longest + 2];
        int openCount = 0;
        for (int i = 0; i < n; i++) {
            while (openCount > 0 && depth[open[openCount - 1]] >= depth[i]) skip[open[--openCount]] = i;
            open[openCount++] = i;
        }
        while (openCount > 0) skip[open[--openCount]] = n;

        tokenOffset = new int[n + 1];
        for (int node : tokenNode) tokenOffset[node + 1]++;
        for (int i = 0; i < n; i++) tokenOffset[i + 1] += tokenOffset[i];
        tokens = new int[count];
        int[] fill = Arrays.copyOf(tokenOffset, n);
        for (int k = 0; k < count; k++) tokens[fill[tokenNode[k]]++] = order[k];
    }

    int nodeCount() {
        return label.length;
    }

    /** The bytes of a token in the trie, or null for special, end-of-generation and empty tokens. */
    byte[] bytesOf(int token) {
        return token >= 0 && token < vocabSize ? tokenBytes[token] : null;
    }

    boolean isEndOfGeneration(int token) {
        return Arrays.binarySearch(endOfGeneration, token) >= 0;
    }
}
