package dev.quill.engine.grammar;

import dev.quill.engine.tokenizer.Tokenizer;
import java.util.Arrays;
import java.util.Map;
import java.util.WeakHashMap;

/**
 * The byte prefix tree of a vocabulary, flattened in pre-order so that a mask computation is one forward scan that
 * jumps over every subtree the grammar rules out. Built once per {@link Tokenizer} instance and cached.
 *
 * <p>Node {@code i} (the root is implicit) is {@code node[i] = depth << 8 | byte}, at depth 1 for a token's first
 * byte; its subtree is nodes {@code i + 1 .. skip[i] - 1}. The tokens whose bytes end exactly at node {@code i} are
 * {@code tokens[tokenOffset[i] .. tokenOffset[i + 1])} (several when two tokens spell the same bytes, such as a
 * byte-fallback token and a normal one), so the tokens below node {@code i} are the slice {@code tokenOffset[i + 1]
 * .. tokenOffset[skip[i]]}. For the common case {@code token[i]} is the node's only token, {@link #vocabSize} when
 * it has none (a spare bit past the vocabulary, so marking it needs no branch), or {@link #MANY} when it has several.
 *
 * <p>For taking uniform subtrees whole, {@code below[2i], below[2i+1]} hold the ASCII bytes that occur below node
 * {@code i}, {@code height[i]} how many bytes deep its subtree goes, and {@code kind[i]} is {@link #ASCII} when
 * only ASCII bytes occur below it, {@link #UTF8} when the node ends a whole character and every token below it
 * continues with well-formed UTF-8 (possibly ending inside a character), {@link #OTHER} otherwise.
 *
 * <p>Special tokens (control and unknown ones), end-of-generation tokens and tokens without bytes are not in the
 * trie: text-generating grammars never allow them. End-of-generation tokens are listed separately; a matcher allows
 * them exactly when its grammar is complete.
 */
final class TokenTrie {

    static final int MANY = -1;
    static final byte ASCII = 0, UTF8 = 1, OTHER = 2;

    private static final Map<Tokenizer, TokenTrie> CACHE = new WeakHashMap<>();

    final int vocabSize;
    final int[] node;
    final int[] skip;
    final int[] token;
    final int[] tokenOffset;
    final int[] tokens;
    final long[] below;
    final int[] height;
    final byte[] kind;
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
        var parents = new IntList(count * 3);
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
                labels.add(bytes[d - 1] & 0xFF);
                depths.add(d);
                parents.add(d == 1 ? -1 : path[d - 1]);
            }
            tokenNode[k] = path[bytes.length];
            previous = bytes;
            longest = Math.max(longest, bytes.length);
        }
        int n = labels.size();
        node = new int[n];
        for (int i = 0; i < n; i++) node[i] = depths.get(i) << 8 | labels.get(i);
        maxDepth = longest;

        // A subtree ends at the next node that is not deeper.
        skip = new int[n];
        int[] open = new int[longest + 2];
        int openCount = 0;
        for (int i = 0; i < n; i++) {
            while (openCount > 0 && depths.get(open[openCount - 1]) >= depths.get(i)) skip[open[--openCount]] = i;
            open[openCount++] = i;
        }
        while (openCount > 0) skip[open[--openCount]] = n;

        tokenOffset = new int[n + 1];
        for (int at : tokenNode) tokenOffset[at + 1]++;
        for (int i = 0; i < n; i++) tokenOffset[i + 1] += tokenOffset[i];
        tokens = new int[count];
        int[] fill = Arrays.copyOf(tokenOffset, n);
        for (int k = 0; k < count; k++) tokens[fill[tokenNode[k]]++] = order[k];
        token = new int[n];
        for (int i = 0; i < n; i++) {
            int here = tokenOffset[i + 1] - tokenOffset[i];
            token[i] = here == 0 ? vocabSize : here == 1 ? tokens[tokenOffset[i]] : MANY;
        }

        // UTF-8 decoding state after each node, parents first; then fold each node into its parent, last node first.
        int[] utf8 = new int[n];
        for (int i = 0; i < n; i++) utf8[i] = Utf8Check.step(parents.get(i) < 0 ? Utf8Check.BOUNDARY : utf8[parents.get(i)], labels.get(i));
        below = new long[2 * n];
        height = new int[n];
        kind = new byte[n];
        boolean[] invalidBelow = new boolean[n], nonAsciiBelow = new boolean[n];
        for (int i = n - 1; i >= 0; i--) { // every node below i has been folded into i already
            kind[i] = !nonAsciiBelow[i] ? ASCII : utf8[i] == Utf8Check.BOUNDARY && !invalidBelow[i] ? UTF8 : OTHER;
            int parent = parents.get(i);
            if (parent < 0) continue;
            int b = labels.get(i);
            if (b < 0x80) below[2 * parent + (b >>> 6)] |= 1L << b;
            below[2 * parent] |= below[2 * i];
            below[2 * parent + 1] |= below[2 * i + 1];
            height[parent] = Math.max(height[parent], height[i] + 1);
            if (b >= 0x80 || nonAsciiBelow[i]) nonAsciiBelow[parent] = true;
            if (utf8[i] == Utf8Check.INVALID || invalidBelow[i]) invalidBelow[parent] = true;
        }
    }

    int nodeCount() {
        return node.length;
    }

    /** The bytes of a token in the trie, or null for special, end-of-generation and empty tokens. */
    byte[] bytesOf(int id) {
        return id >= 0 && id < vocabSize ? tokenBytes[id] : null;
    }

    boolean isEndOfGeneration(int id) {
        return Arrays.binarySearch(endOfGeneration, id) >= 0;
    }
}
