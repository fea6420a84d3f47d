package dev.quill.engine.grammar;

import dev.quill.engine.sampling.TokenMask;
import java.nio.charset.StandardCharsets;
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

    private final Automaton automaton;
    private final TokenTrie trie;
    private Automaton.State state;
    private BitSet allowed;
    private Automaton.State[] walk;

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
        TokenTrie t = requireTrie();
        out.clear();
        int limit = Math.max(-1, Math.min(tokensLeft - 1, UNLIMITED));
        walk(t, out, limit);
        if (state.accepting) {
            for (int eog : t.endOfGeneration) out.set(eog);
        } else if (out.isEmpty() && limit < UNLIMITED) {
            walk(t, out, UNLIMITED);
        }
    }

    /**
     * The mask for this step, in a bit set this matcher owns and refills on every call (read it before the next
     * call). See {@link #fillMask(BitSet, int)}.
     */
    public TokenMask mask(int tokensLeft) {
        if (allowed == null) allowed = new BitSet(requireTrie().vocabSize);
        fillMask(allowed, tokensLeft);
        return TokenMask.of(allowed);
    }

    /**
     * One pre-order pass over the trie: each node's state is its parent's state advanced by the node's byte; a state
     * that can never complete (the dead one included) skips the whole subtree, since no continuation can rescue it;
     * a node's tokens are allowed when its state can complete within {@code limit} bytes.
     */
    private void walk(TokenTrie t, BitSet out, int limit) {
        Automaton.State[] at = walk;
        if (at == null || at.length <= t.maxDepth) at = walk = new Automaton.State[t.maxDepth + 1];
        at[0] = state;
        if (!state.canContinue()) return;
        byte[] label = t.label;
        int[] depth = t.depth, skip = t.skip, tokenOffset = t.tokenOffset, tokens = t.tokens;
        int n = label.length;
        int i = 0;
        while (i < n) {
            int d = depth[i];
            Automaton.State parent = at[d - 1];
            Automaton.State[] row = parent.next;
            if (row == null) row = automaton.expand(parent);
            Automaton.State s = row[label[i] & 0xFF];
            if (s.distance > UNLIMITED) {
                i = skip[i];
                continue;
            }
            at[d] = s;
            if (s.distance <= limit) {
                for (int k = tokenOffset[i], end = tokenOffset[i + 1]; k < end; k++) out.set(tokens[k]);
            }
            i++;
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
