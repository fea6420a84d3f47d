package dev.quill.engine.grammar;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The incremental parser of a {@link ByteGrammar}: a pushdown automaton whose configurations are sets of parse
 * stacks (llama.cpp's grammar engine keeps such a set too), determinised lazily over bytes.
 *
 * <p>A <em>stack</em> is a linked list of grammar positions: the top is the byte range to match next, each node
 * below it the position to continue at when the rule above it ends. Stacks are interned (the same top over the same
 * rest is one id), so a stack is an int and equal stacks share their tails. Stack 0 is the empty stack: the whole
 * grammar has matched. A {@link State} is an interned, sorted set of stacks; its successor on each byte is computed
 * once, for all 256 bytes at a time, and remembered. After that, advancing by a byte is one array load, which is
 * what makes walking the whole token trie every step cheap.
 *
 * <p>Rule references at the end of an alternative replace their caller instead of pushing on top of it (tail calls),
 * so repetition ({@code r ::= x r | ""}) never deepens a stack.
 *
 * <p>Not thread-safe: one automaton serves the matchers of one request, on one thread at a time.
 */
final class Automaton {

    /** Past this many states, remembered transitions are dropped (states stay valid and are rebuilt on demand). */
    private static final int STATE_LIMIT = 200_000;
    /** Expansions one byte step may take before the grammar is deemed pathological. */
    private static final int EXPANSION_LIMIT = 1_000_000;

    /** A set of parse stacks. Identity is equality: states are interned. */
    static final class State {
        final int[] stacks;
        final boolean accepting;
        /** The fewest bytes that complete the grammar from here; 0 when accepting. */
        final int distance;
        /** Successor per byte, or null until computed; the dead state where nothing matches. */
        State[] next;

        State(int[] stacks, boolean accepting, int distance) {
            this.stacks = stacks;
            this.accepting = accepting;
            this.distance = distance;
        }

        /** Some continuation completes the grammar (false for the dead state). */
        boolean canComplete() {
            return distance < ByteGrammar.INFINITE;
        }

        /** Some byte can still follow. */
        boolean canContinue() {
            return stacks.length > (accepting ? 1 : 0);
        }
    }

    private final ByteGrammar grammar;
    private int[] stackPos = new int[1024];
    private int[] stackParent = new int[1024];
    private int[] stackDistance = new int[1024];
    private int stackCount;
    private final LongIntMap stackIds = new LongIntMap(1024);
    private final Map<StateKey, State> states = new HashMap<>();
    private final List<State> expanded = new ArrayList<>();
    final State dead;
    /** Only the empty stack: complete, nothing more may follow. */
    final State finished;
    final State start;

    // Scratch for closures.
    private final LongIntMap visited = new LongIntMap(256);
    private final IntList found = new IntList(64);
    private final IntList work = new IntList(64);

    Automaton(ByteGrammar grammar) {
        this.grammar = grammar;
        stackPos[0] = -1;
        stackParent[0] = -1;
        stackDistance[0] = 0;
        stackCount = 1;
        dead = intern(new int[0]);
        finished = intern(new int[] {0});
        beginClosure();
        for (int alternative : grammar.alternatives[grammar.root]) push(alternative, 0);
        start = endClosure();
    }

    /** The state after {@code b} (the dead state if {@code b} cannot come next). */
    State next(State s, int b) {
        State[] row = s.next;
        if (row == null) row = expand(s);
        return row[b];
    }

    /** Computes and remembers a state's successors on all 256 bytes. */
    State[] expand(State s) {
        if (states.size() > STATE_LIMIT) forgetTransitions();
        State[] row = new State[256];
        int n = s.stacks.length;
        int words = (n + 63) >>> 6;
        long[][] matching = new long[256][];
        for (int i = 0; i < n; i++) {
            int stack = s.stacks[i];
            if (stack == 0) continue;
            int element = grammar.elements[stackPos[stack]];
            for (int b = ByteGrammar.lo(element); b <= ByteGrammar.hi(element); b++) {
                if (matching[b] == null) matching[b] = new long[words];
                matching[b][i >>> 6] |= 1L << i;
            }
        }
        Map<StateKey, State> bySubset = new HashMap<>();
        for (int b = 0; b < 256; b++) {
            long[] subset = matching[b];
            if (subset == null) {
                row[b] = dead;
                continue;
            }
            StateKey key = new StateKey(subset);
            State successor = bySubset.get(key);
            if (successor == null) {
                successor = advance(s, subset);
                bySubset.put(key, successor);
            }
            row[b] = successor;
        }
        s.next = row;
        expanded.add(s);
        return row;
    }

    /** Moves every stack in {@code subset} past its top byte and closes the result. */
    private State advance(State s, long[] subset) {
        beginClosure();
        for (int w = 0; w < subset.length; w++) {
            for (long bits = subset[w]; bits != 0; bits &= bits - 1) {
                int stack = s.stacks[(w << 6) + Long.numberOfTrailingZeros(bits)];
                push(stackPos[stack] + 1, stackParent[stack]);
            }
        }
        return endClosure();
    }

    private void beginClosure() {
        visited.clear();
        found.clear();
        work.clear();
    }

    private void push(int position, int parent) {
        work.add(position);
        work.add(parent);
    }

    /**
     * Expands the pending (position, parent) pairs until every stack's top is a byte range, and interns the set.
     * A rule reference pushes its continuation (unless it is a tail call) and each alternative of the rule; the end
     * of an alternative pops to its parent.
     */
    private State endClosure() {
        int steps = 0;
        int[] elements = grammar.elements;
        while (work.size() > 0) {
            if (++steps > EXPANSION_LIMIT) {
                throw new IllegalStateException("grammar expands to more than " + EXPANSION_LIMIT + " parse stacks in one step");
            }
            int parent = work.get(work.size() - 1);
            int position = work.get(work.size() - 2);
            work.removeLast(2);
            int element = elements[position];
            if (ByteGrammar.isBytes(element)) {
                found.add(stack(position, parent));
            } else if (element == ByteGrammar.END) {
                if (parent == 0) found.add(0);
                else push(stackPos[parent], stackParent[parent]);
            } else if (visited.add(((long) position << 32) | parent)) {
                int below = elements[position + 1] == ByteGrammar.END ? parent : stack(position + 1, parent);
                for (int alternative : grammar.alternatives[ByteGrammar.rule(element)]) push(alternative, below);
            }
        }
        int[] stacks = found.toArray();
        Arrays.sort(stacks);
        int distinct = 0;
        for (int i = 0; i < stacks.length; i++) {
            if (i == 0 || stacks[i] != stacks[i - 1]) stacks[distinct++] = stacks[i];
        }
        return intern(distinct == stacks.length ? stacks : Arrays.copyOf(stacks, distinct));
    }

    private State intern(int[] stacks) {
        StateKey key = new StateKey(stacks);
        State s = states.get(key);
        if (s != null) return s;
        boolean accepting = stacks.length > 0 && stacks[0] == 0;
        int distance = ByteGrammar.INFINITE;
        for (int stack : stacks) distance = Math.min(distance, stackDistance[stack]);
        s = new State(stacks, accepting, distance);
        states.put(key, s);
        return s;
    }

    /** The interned stack with {@code position} on top of stack {@code parent}. */
    private int stack(int position, int parent) {
        long key = ((long) position << 32) | parent;
        int id = stackIds.get(key);
        if (id != LongIntMap.ABSENT) return id;
        id = stackCount++;
        if (id == stackPos.length) {
            stackPos = Arrays.copyOf(stackPos, id * 2);
            stackParent = Arrays.copyOf(stackParent, id * 2);
            stackDistance = Arrays.copyOf(stackDistance, id * 2);
        }
        stackPos[id] = position;
        stackParent[id] = parent;
        stackDistance[id] = Math.min(ByteGrammar.INFINITE, grammar.rest[position] + stackDistance[parent]);
        stackIds.put(key, id);
        return id;
    }

    private void forgetTransitions() {
        for (State s : expanded) s.next = null;
        expanded.clear();
        states.clear();
        states.put(new StateKey(dead.stacks), dead);
        states.put(new StateKey(finished.stacks), finished);
    }

    int stateCount() {
        return states.size();
    }

    /** Hashable contents of an int or long array. */
    private record StateKey(Object array, int hash) {
        StateKey(int[] stacks) {
            this(stacks, Arrays.hashCode(stacks));
        }

        StateKey(long[] bits) {
            this(bits, Arrays.hashCode(bits));
        }

        @Override
        public boolean equals(Object o) {
            if (!(o instanceof StateKey k) || k.hash != hash) return false;
            return array instanceof int[] a ? Arrays.equals(a, (int[]) k.array) : Arrays.equals((long[]) array, (long[]) k.array);
        }

        @Override
        public int hashCode() {
            return hash;
        }
    }
}
