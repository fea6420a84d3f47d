package dev.quill.engine.grammar;

import dev.quill.engine.sampling.TokenMask;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.BitSet;

/**
 * Where one generation stands in a {@link Grammar}: which bytes, and so which tokens, may come next. Obtained from
 * {@link Grammar#matcher(dev.quill.engine.tokenizer.Tokenizer)}; {@link #copy()} is O(1), so a sequence group
 * ({@code n > 1}) starts from copies of one matcher, and a snapshot is just a copy.
 *
 * <p>The matcher works on bytes, so a token may cover several grammar symbols, end inside a literal, or end in the
 * middle of a multi-byte UTF-8 character; the next token continues from exactly there.
 *
 * <p><b>Budget.</b> {@link #fillMask(BitSet, int)} takes the number of tokens the sequence may still generate. A
 * token is allowed only if the grammar can still be completed afterwards within what is left (every vocabulary has
 * single-byte tokens, so {@link #minBytesToComplete()} bytes always fit in as many tokens). A constrained generation
 * therefore ends complete, and finishes with "stop", whenever its budget is at least the grammar's shortest
 * completion, however long the model rambles inside a string or an array. See docs/structured-output.md.
 *
 * <p>Not thread-safe; a matcher and its copies share caches and must be used from one thread at a time.
 */
public final class GrammarMatcher {

    /** Any state that can still complete. */
    private static final int UNLIMITED = ByteGrammar.INFINITE - 1;
    /** A mask is remembered when its walk visited more than 1/this of the trie. */
    private static final int CACHE_WORTHY = 16;
    /** Subtrees with fewer nodes are walked rather than checked against the state's run. */
    private static final int SHORTCUT_MIN = 8;

    private final Automaton automaton;
    private final TokenTrie trie;
    private Automaton.State state;
    private long[] words, scratch;
    private Automaton.State[] walk;
    private int visited;

    GrammarMatcher(Automaton automaton, TokenTrie trie) {
        this(automaton, trie, automaton.start);
    }

    private GrammarMatcher(Automaton automaton, TokenTrie trie, Automaton.State state) {
        this.automaton = automaton;
        this.trie = trie;
        this.state = state;
    }

    /** An independent matcher at the same point (shares the grammar's caches, not the state). */
    public GrammarMatcher copy() {
        return new GrammarMatcher(automaton, trie, state);
    }

    /**
     * Advances over {@code bytes} if the text so far followed by them is still the beginning of some complete match;
     * otherwise returns false and stays put.
     */
    public boolean acceptBytes(byte[] bytes) {
        Automaton.State s = state;
        for (byte b : bytes) {
            s = automaton.next(s, b & 0xFF);
            if (!s.canComplete()) return false;
        }
        state = s;
        return true;
    }

    /** {@link #acceptBytes} of the text's UTF-8 encoding. */
    public boolean acceptString(String text) {
        return acceptBytes(text.getBytes(StandardCharsets.UTF_8));
    }

    /**
     * Advances over a token if the grammar allows it here; otherwise returns false and stays put. An
     * end-of-generation token is allowed only when the grammar is complete, and nothing may follow it.
     *
     * @throws IllegalStateException if this matcher was made without a tokenizer
     */
    public boolean acceptToken(int token) {
        TokenTrie t = requireTrie();
        if (t.isEndOfGeneration(token)) {
            if (!state.accepting) return false;
            state = automaton.finished;
            return true;
        }
        byte[] bytes = t.bytesOf(token);
        return bytes != null && acceptBytes(bytes);
    }

    /** The text so far is a complete match: generation may end here. */
    public boolean isComplete() {
        return state.accepting;
    }

    /** Some byte may still follow. */
    public boolean canContinue() {
        return state.canContinue();
    }

    /**
     * The generation should end now, with "stop": the grammar is complete and either nothing may follow or no
     * token is left in the budget.
     */
    public boolean isFinished(int tokensLeft) {
        return state.accepting && (!state.canContinue() || tokensLeft <= 0);
    }

    /** The fewest bytes that complete the grammar from here (0 when complete). */
    public int minBytesToComplete() {
        return state.distance;
    }

    /** {@link #fillMask(BitSet, int)} without a budget. */
    public void fillMask(BitSet out) {
        fillMask(out, Integer.MAX_VALUE);
    }

    /**
     * Sets in {@code out} (cleared first) exactly the tokens that may come next: those whose bytes continue the
     * text validly, plus the end-of-generation tokens when the grammar is complete. With {@code tokensLeft} tokens
     * left (this one included), a token is allowed only if the grammar can be completed in the tokens left after
     * it; when no token satisfies that (the budget was too small from the start), every valid token is allowed.
     *
     * @throws IllegalStateException if this matcher was made without a tokenizer
     */
    public void fillMask(BitSet out, int tokensLeft) {
        fill(out, computeMask(tokensLeft, true));
    }

    /** {@link #fillMask(BitSet, int)} that walks the trie even when the state's mask is remembered. */
    void fillMaskUncached(BitSet out, int tokensLeft) {
        fill(out, computeMask(tokensLeft, false));
    }

    private static void fill(BitSet out, long[] words) {
        out.clear();
        out.or(BitSet.valueOf(words));
    }

    /**
     * The mask for this step (see {@link #fillMask(BitSet, int)}), backed by an array this matcher owns and refills
     * on every call: use it before the next call.
     */
    public TokenMask mask(int tokensLeft) {
        long[] words = computeMask(tokensLeft, true);
        int vocab = requireTrie().vocabSize;
        return new TokenMask() {
            @Override
            public boolean allows(int token) {
                return token >= 0 && token < vocab && (words[token >>> 6] & 1L << token) != 0;
            }

            @Override
            public void disallowIn(float[] row, int size) {
                for (int w = 0; w << 6 < size; w++) {
                    long blocked = ~words[w];
                    while (blocked != 0) {
                        int token = w << 6 | Long.numberOfTrailingZeros(blocked);
                        if (token >= size) break;
                        row[token] = Float.NEGATIVE_INFINITY;
                        blocked &= blocked - 1;
                    }
                }
            }
        };
    }

    private long[] computeMask(int tokensLeft, boolean useCache) {
        TokenTrie t = requireTrie();
        int size = (t.vocabSize >>> 6) + 1; // room for the spare bit at vocabSize
        if (words == null || words.length != size) {
            words = new long[size];
            scratch = new long[size];
        }
        int limit = Math.max(-1, Math.min(tokensLeft - 1, UNLIMITED));
        Automaton.CachedMask cached = useCache ? automaton.cachedMask(state) : null;
        if (cached != null && cached.maxDistance() <= limit) {
            System.arraycopy(cached.words(), 0, words, 0, size);
        } else {
            // One pass fills both the valid tokens (cacheable) and those that also fit the budget.
            Arrays.fill(words, 0);
            long[] valid = limit >= UNLIMITED ? words : scratch;
            if (valid != words) Arrays.fill(valid, 0);
            int maxDistance = walk(t, valid, words, limit);
            int spare = t.vocabSize;
            valid[spare >>> 6] &= ~(1L << spare);
            words[spare >>> 6] &= ~(1L << spare);
            if (visited > t.nodeCount() / CACHE_WORTHY) automaton.cacheMask(state, valid.clone(), maxDistance);
            if (!state.accepting && isEmpty(words)) System.arraycopy(valid, 0, words, 0, size);
        }
        if (state.accepting) {
            for (int eog : t.endOfGeneration) words[eog >>> 6] |= 1L << eog;
        }
        return words;
    }

    private static boolean isEmpty(long[] words) {
        for (long w : words) {
            if (w != 0) return false;
        }
        return true;
    }

    /**
     * One pre-order pass over the trie. Each node's state is its parent's state advanced by the node's byte; a state
     * that can never complete (the dead one included) skips the whole subtree, since no continuation can rescue it.
     * A node's tokens go into {@code valid}, and into {@code within} too when their state can complete within
     * {@code limit} bytes. A subtree whose bytes all lie in the current state's run (see {@link Automaton#run}) is
     * taken whole without visiting it. Returns the largest completion distance of a valid token (or more).
     */
    private int walk(TokenTrie t, long[] valid, long[] within, int limit) {
        Automaton.State[] at = walk;
        if (at == null || at.length <= t.maxDepth) at = walk = new Automaton.State[t.maxDepth + 1];
        at[0] = state;
        visited = 0;
        if (!state.canContinue()) return 0;
        int[] node = t.node, skip = t.skip, token = t.token, height = t.height;
        long[] below = t.below;
        int n = node.length;
        int maxDistance = 0;
        int count = 0;
        int i = 0;
        while (i < n) {
            count++;
            int info = node[i];
            int d = info >>> 8;
            Automaton.State parent = at[d - 1];
            Automaton.State[] row = parent.next;
            if (row == null) row = automaton.expand(parent);
            Automaton.State s = row[info & 0xFF];
            int distance = s.distance;
            if (distance > UNLIMITED) {
                i = skip[i];
                continue;
            }
            int id = token[i];
            if (id >= 0) {
                valid[id >>> 6] |= 1L << id;
                within[id >>> 6] |= (distance <= limit ? 1L : 0L) << id;
            } else {
                allow(t, t.tokenOffset[i], t.tokenOffset[i + 1], valid, within, distance <= limit);
            }
            maxDistance = Math.max(maxDistance, distance);
            at[d] = s;
            int end = skip[i];
            byte kind = t.kind[i];
            if (end - i > SHORTCUT_MIN && kind != TokenTrie.OTHER) {
                int h = height[i];
                if (h > s.runLength && (s.runLength < 0 || s.runTruncated)) automaton.run(s, h);
                if (h <= s.runLength && (kind == TokenTrie.ASCII || s.runChars) && s.runMaxDistance <= limit
                        && (below[2 * i] & ~s.runLo) == 0 && (below[2 * i + 1] & ~s.runHi) == 0) {
                    allow(t, t.tokenOffset[i + 1], t.tokenOffset[end], valid, within, true);
                    maxDistance = Math.max(maxDistance, s.runMaxDistance);
                    i = end;
                    continue;
                }
            }
            i++;
        }
        visited = count;
        return maxDistance;
    }

    private static void allow(TokenTrie t, int from, int to, long[] valid, long[] within, boolean inBudget) {
        int[] tokens = t.tokens;
        for (int k = from; k < to; k++) {
            int id = tokens[k];
            valid[id >>> 6] |= 1L << id;
            if (inBudget) within[id >>> 6] |= 1L << id;
        }
    }

    private TokenTrie requireTrie() {
        if (trie == null) throw new IllegalStateException("this matcher was made without a tokenizer: it matches bytes only");
        return trie;
    }

    @Override
    public String toString() {
        return "GrammarMatcher[" + (state.accepting ? "complete" : "open") + ", " + state.stacks.length + " stacks]";
    }
}
