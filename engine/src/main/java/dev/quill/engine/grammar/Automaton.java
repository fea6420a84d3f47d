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
    private static final int MASK_CACHE_SIZE = 8;
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

        // The "run" of this state (see Automaton#run), computed on demand; runLength -1 until then.
        long runLo, runHi;
        State runNext;
        int runLength = -1;
        int runMaxDistance;
        /** Multi-byte characters count in the run too: each well-formed one leads where the run's ASCII bytes do. */
        boolean runChars;
        boolean runClassKnown;
        boolean runTruncated;

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
    /**
     * The masks of expensive states, most recently used last: a state that recurs (inside a free-text string the
     * state after each whole character is the same) then costs a copy instead of a walk.
     */
    private final Map<State, CachedMask> masks = new java.util.LinkedHashMap<>(16, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<State, CachedMask> eldest) {
            return size() > MASK_CACHE_SIZE;
        }
    };
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

    /**
     * Computes and remembers a state's successors on all 256 bytes. The bytes between two consecutive range bounds
     * of the stacks' tops are matched by the same stacks, so each such interval is advanced once.
     */
    State[] expand(State s) {
        if (states.size() > STATE_LIMIT) forgetTransitions();
        State[] row = new State[256];
        int n = s.stacks.length;
        int[] lo = new int[n], hi = new int[n];
        int[] bounds = new int[2 * n + 2];
        int boundCount = 0;
        bounds[boundCount++] = 0;
        bounds[boundCount++] = 256;
        for (int i = 0; i < n; i++) {
            int stack = s.stacks[i];
            if (stack == 0) { // the empty stack matches nothing
                lo[i] = 1;
                hi[i] = 0;
                continue;
            }
            int element = grammar.elements[stackPos[stack]];
            lo[i] = ByteGrammar.lo(element);
            hi[i] = ByteGrammar.hi(element);
            bounds[boundCount++] = lo[i];
            bounds[boundCount++] = hi[i] + 1;
        }
        Arrays.sort(bounds, 0, boundCount);
        Map<StateKey, State> bySubset = new HashMap<>();
        long[] subset = new long[(n + 63) >>> 6];
        for (int k = 0; k + 1 < boundCount; k++) {
            int from = bounds[k], to = bounds[k + 1];
            if (from == to) continue;
            Arrays.fill(subset, 0);
            boolean any = false;
            for (int i = 0; i < n; i++) {
                if (lo[i] <= from && from <= hi[i]) {
                    subset[i >>> 6] |= 1L << i;
                    any = true;
                }
            }
            State successor = dead;
            if (any) {
                StateKey key = new StateKey(subset.clone());
                successor = bySubset.get(key);
                if (successor == null) {
                    successor = advance(s, subset);
                    bySubset.put(key, successor);
                }
            }
            Arrays.fill(row, from, to, successor);
        }
        s.next = row;
        expanded.add(s);
        return row;
    }

    /** A run that never ends: the class loops back to the same state. */
    static final int RUN_FOREVER = 1 << 29;
    private static final int RUN_PENDING = -2;

    /**
     * Computes {@code s}'s run: its largest class C of ASCII bytes that all lead to one live successor, and how
     * many characters in a row from C are accepted, each step leading to a state whose class contains C
     * ({@link #RUN_FOREVER} when C loops back to {@code s}). When every well-formed multi-byte character leads to
     * the same successor as C, all along the run, {@code runChars} is set and those characters count as members of
     * C. Inside a free JSON string C is the plain ASCII characters, multi-byte characters are members, and the run
     * is endless; inside a string of at most k characters it lasts k characters. Every byte string of such
     * characters, of at most that many bytes and possibly ending inside a character, is then accepted, reaching
     * states that complete within {@code runMaxDistance} bytes: the mask walk takes whole subtrees of them at once.
     * The chain of states is followed only {@code needed} steps (a run is {@code runTruncated} when it may go on);
     * a later call that needs more extends it.
     */
    void run(State s, int needed) {
        if (s.runLength >= needed || s.runLength >= 0 && !s.runTruncated) return;
        List<State> chain = new ArrayList<>();
        State c = s;
        boolean cut = false;
        while (true) {
            if (!c.runClassKnown) chooseRunClass(c);
            c.runLength = RUN_PENDING;
            chain.add(c);
            State r = c.runNext;
            if (r == null || r == c || r.runLength == RUN_PENDING) break;
            if (chain.size() >= needed) { // far enough for now; extended on demand
                cut = true;
                break;
            }
            if (!r.runClassKnown) chooseRunClass(r);
            if ((c.runLo & ~r.runLo) != 0 || (c.runHi & ~r.runHi) != 0) break; // the class narrows: one step
            if (r.runLength >= 0 && (!r.runTruncated || r.runLength + chain.size() >= needed)) break;
            c = r;
        }
        for (int k = chain.size() - 1; k >= 0; k--) {
            c = chain.get(k);
            State r = c.runNext;
            int partial = c.runChars ? 3 : 0; // a state inside a character is at most 3 bytes from the next
            c.runTruncated = false;
            if (r == null) {
                c.runLength = 0;
                c.runMaxDistance = 0;
            } else if (r == c) {
                c.runLength = RUN_FOREVER;
                c.runMaxDistance = c.distance + partial;
            } else if (cut && k == chain.size() - 1) {
                c.runLength = 1;
                c.runTruncated = true;
                c.runMaxDistance = r.distance + partial;
            } else if (r.runLength >= 0 && (c.runLo & ~r.runLo) == 0 && (c.runHi & ~r.runHi) == 0) {
                c.runLength = Math.min(RUN_FOREVER, r.runLength + 1);
                c.runTruncated = r.runTruncated;
                c.runChars = c.runChars && (r.runChars || r.runLength == 0);
                c.runMaxDistance = Math.max(r.distance + partial, r.runMaxDistance);
            } else { // the class narrows, or a cycle through other states: one step is certain
                c.runLength = 1;
                c.runMaxDistance = r.distance + partial;
            }
        }
    }

    /** Whether every well-formed multi-byte UTF-8 character leads from {@code s} to {@code target}. */
    private boolean allCharactersLeadTo(State s, State target) {
        State[] row = s.next != null ? s.next : expand(s);
        Map<State, Boolean> known = new HashMap<>();
        for (int lead = 0xC2; lead <= 0xF4; lead++) {
            int remaining = lead < 0xE0 ? 1 : lead < 0xF0 ? 2 : 3;
            int lo = lead == 0xE0 ? 0xA0 : lead == 0xF0 ? 0x90 : 0x80;
            int hi = lead == 0xED ? 0x9F : lead == 0xF4 ? 0x8F : 0xBF;
            if (!continuationsLeadTo(row[lead], remaining, lo, hi, target, known)) return false;
        }
        return true;
    }

    private boolean continuationsLeadTo(State q, int remaining, int lo, int hi, State target, Map<State, Boolean> known) {
        if (remaining == 0) return q == target;
        if (!q.canComplete()) return false;
        boolean fullRange = lo == 0x80 && hi == 0xBF;
        if (fullRange && known.containsKey(q)) return known.get(q); // a partial state always has the same remaining
        State[] row = q.next != null ? q.next : expand(q);
        boolean ok = true;
        for (int b = lo; b <= hi && ok; b++) ok = continuationsLeadTo(row[b], remaining - 1, 0x80, 0xBF, target, known);
        if (fullRange) known.put(q, ok);
        return ok;
    }

    private void chooseRunClass(State s) {
        s.runClassKnown = true;
        State[] row = s.next != null ? s.next : expand(s);
        Map<State, long[]> classes = new HashMap<>();
        long[] best = null;
        for (int b = 0; b < 128; b++) {
            State r = row[b];
            if (!r.canComplete()) continue;
            long[] c = classes.computeIfAbsent(r, k -> new long[2]);
            c[b >>> 6] |= 1L << b;
            if (best == null || Long.bitCount(c[0]) + Long.bitCount(c[1]) > Long.bitCount(best[0]) + Long.bitCount(best[1])) {
                best = c;
                s.runNext = r;
            }
        }
        if (best != null) {
            s.runLo = best[0];
            s.runHi = best[1];
        }
        s.runChars = s.runNext != null && allCharactersLeadTo(s, s.runNext);
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

    /** A state's valid tokens, and the largest completion distance among them (see {@link GrammarMatcher}). */
    record CachedMask(long[] words, int maxDistance) {}

    CachedMask cachedMask(State s) {
        return masks.get(s);
    }

    void cacheMask(State s, long[] words, int maxDistance) {
        masks.put(s, new CachedMask(words, maxDistance));
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
