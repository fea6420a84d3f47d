package dev.quill.engine.grammar;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A {@link Grammar} lowered to bytes, the form the {@link Automaton} runs: rules made of alternatives, each a
 * sequence of elements, each element either a byte range or a reference to a rule. Repetitions become small helper
 * rules ({@code x{2,4}} is {@code x x r2} with {@code r2 ::= x r1 | ""} and {@code r1 ::= x | ""}), character classes
 * become alternatives of UTF-8 byte-range sequences, literals become their UTF-8 bytes.
 *
 * <p>All alternatives are laid out in one array of <em>positions</em>; each alternative ends with {@link #END}. An
 * element is encoded in one int: {@code lo << 8 | hi} for the byte range {@code lo..hi}, {@code REF_BASE + rule} for
 * a rule reference.
 */
final class ByteGrammar {

    static final int END = -1;
    static final int REF_BASE = 1 << 16;
    /** "Cannot complete": larger than any real length, small enough that sums of a few never overflow. */
    static final int INFINITE = Integer.MAX_VALUE / 4;

    final int[] elements;
    /** Per rule, the first position of each alternative. */
    final int[][] alternatives;
    final String[] ruleNames;
    /** Per position, the fewest bytes that complete its alternative from there ({@link #INFINITE} if impossible). */
    final int[] rest;
    final int[] minLength;
    final int root;

    static boolean isBytes(int element) {
        return element >= 0 && element < REF_BASE;
    }

    static boolean isRef(int element) {
        return element >= REF_BASE;
    }

    static int lo(int element) {
        return element >>> 8;
    }

    static int hi(int element) {
        return element & 0xFF;
    }

    static int rule(int element) {
        return element - REF_BASE;
    }

    /**
     * @throws IllegalArgumentException on a reference to an undefined rule, a missing root, a left-recursive rule, or
     *                                  a root that can never complete
     */
    ByteGrammar(Map<String, Expr> rules, String rootName) {
        if (!rules.containsKey(rootName)) throw new IllegalArgumentException("the grammar has no rule '" + rootName + "'");
        Lowering lowering = new Lowering(rules);
        List<List<int[]>> lowered = lowering.rules;
        int rules0 = lowered.size();
        ruleNames = lowering.names.toArray(String[]::new);
        alternatives = new int[rules0][];
        int size = 0;
        for (List<int[]> alts : lowered) {
            for (int[] alt : alts) size += alt.length + 1;
        }
        elements = new int[size];
        int position = 0;
        for (int r = 0; r < rules0; r++) {
            List<int[]> alts = lowered.get(r);
            alternatives[r] = new int[alts.size()];
            for (int a = 0; a < alts.size(); a++) {
                alternatives[r][a] = position;
                int[] alt = alts.get(a);
                System.arraycopy(alt, 0, elements, position, alt.length);
                position += alt.length;
                elements[position++] = END;
            }
        }
        root = lowering.ids.get(rootName);
        minLength = minLengths();
        rest = new int[size];
        for (int p = size - 1; p >= 0; p--) {
            int e = elements[p];
            rest[p] = e == END ? 0 : Math.min(INFINITE, length(e) + rest[p + 1]);
        }
        rejectLeftRecursion();
        if (minLength[root] >= INFINITE) {
            throw new IllegalArgumentException("rule '" + rootName + "' can never complete (every alternative recurses forever)");
        }
    }

    int ruleCount() {
        return alternatives.length;
    }

    private int length(int element) {
        return isBytes(element) ? 1 : minLength[rule(element)];
    }

    /** The shortest text of each rule, by iterating to a fixed point. */
    private int[] minLengths() {
        int[] min = new int[alternatives.length];
        Arrays.fill(min, INFINITE);
        boolean changed = true;
        while (changed) {
            changed = false;
            for (int r = 0; r < alternatives.length; r++) {
                for (int start : alternatives[r]) {
                    long sum = 0;
                    for (int p = start; elements[p] != END && sum < INFINITE; p++) {
                        int e = elements[p];
                        sum += isBytes(e) ? 1 : min[rule(e)];
                    }
                    if (sum < min[r]) {
                        min[r] = (int) sum;
                        changed = true;
                    }
                }
            }
        }
        return min;
    }

    /**
     * A rule that can reach itself without consuming a byte and with something left to match afterwards would make
     * the parser's stacks grow without end: reject it, like llama.cpp does. Reaching itself in tail position
     * ({@code r ::= x r | ""} with a nullable x) is harmless and allowed.
     */
    private void rejectLeftRecursion() {
        int n = alternatives.length;
        // Edges r -> s where s can be the first thing r expands to; the sign bit marks a tail edge.
        List<int[]> edges = new ArrayList<>(n);
        for (int r = 0; r < n; r++) {
            var out = new IntList();
            for (int start : alternatives[r]) {
                for (int p = start; elements[p] != END; p++) {
                    int e = elements[p];
                    if (isBytes(e)) break;
                    boolean tail = elements[p + 1] == END;
                    out.add(tail ? ~rule(e) : rule(e));
                    if (minLength[rule(e)] > 0) break;
                }
            }
            edges.add(out.toArray());
        }
        int[] component = StronglyConnected.components(n, r -> edges.get(r), e -> e < 0 ? ~e : e);
        for (int r = 0; r < n; r++) {
            for (int e : edges.get(r)) {
                if (e >= 0 && component[e] == component[r]) {
                    throw new IllegalArgumentException("rule '" + ruleNames[r]
                            + "' is left-recursive: it can reach itself before matching any text; rewrite it with repetition");
                }
            }
        }
    }

    /** Lowers the source rules; anonymous helper rules are shared between equal expressions. */
    private static final class Lowering {
        final Map<String, Expr> source;
        final Map<String, Integer> ids = new HashMap<>();
        final List<String> names = new ArrayList<>();
        final List<List<int[]>> rules = new ArrayList<>();
        private final Map<Expr, Integer> shared = new HashMap<>();

        Lowering(Map<String, Expr> source) {
            this.source = source;
            for (String name : source.keySet()) ids.put(name, newRule(name));
            for (var rule : source.entrySet()) {
                int id = ids.get(rule.getKey());
                rules.set(id, alternativesOf(rule.getValue(), rule.getKey()));
            }
        }

        private int newRule(String name) {
            names.add(name);
            rules.add(List.of());
            return rules.size() - 1;
        }

        private List<int[]> alternativesOf(Expr e, String owner) {
            List<Expr> options = e instanceof Expr.Alt alt ? alt.options() : List.of(e);
            List<int[]> out = new ArrayList<>(options.size());
            for (Expr option : options) {
                var elements = new IntList();
                emit(option, elements, owner);
                out.add(elements.toArray());
            }
            return out;
        }

        private void emit(Expr e, IntList out, String owner) {
            switch (e) {
                case Expr.Literal literal -> {
                    for (byte b : literal.text().getBytes(StandardCharsets.UTF_8)) out.add(bytes(b & 0xFF, b & 0xFF));
                }
                case Chars chars -> {
                    List<int[]> sequences = Utf8Sequences.of(chars);
                    if (sequences.size() == 1) {
                        int[] s = sequences.getFirst();
                        for (int k = 0; k < s.length; k += 2) out.add(bytes(s[k], s[k + 1]));
                    } else {
                        out.add(REF_BASE + sharedRule(chars, owner, id -> {
                            List<int[]> alts = new ArrayList<>(sequences.size());
                            for (int[] s : sequences) {
                                int[] alt = new int[s.length / 2];
                                for (int k = 0; k < alt.length; k++) alt[k] = bytes(s[2 * k], s[2 * k + 1]);
                                alts.add(alt);
                            }
                            return alts;
                        }));
                    }
                }
                case Expr.Ref ref -> {
                    Integer id = ids.get(ref.name());
                    if (id == null) {
                        throw new IllegalArgumentException("rule '" + owner + "' refers to undefined rule '" + ref.name() + "'");
                    }
                    out.add(REF_BASE + id);
                }
                case Expr.Seq seq -> {
                    for (Expr item : seq.items()) emit(item, out, owner);
                }
                case Expr.Alt alt -> {
                    if (alt.options().size() == 1) emit(alt.options().getFirst(), out, owner);
                    else out.add(REF_BASE + sharedRule(alt, owner, id -> alternativesOf(alt, owner)));
                }
                case Expr.Repeat repeat -> emitRepeat(repeat, out, owner);
            }
        }

        private void emitRepeat(Expr.Repeat repeat, IntList out, String owner) {
            Expr item = repeat.item();
            for (int i = 0; i < repeat.min(); i++) emit(item, out, owner);
            if (repeat.max() == Expr.UNBOUNDED) {
                // star ::= item star | ""
                out.add(REF_BASE + sharedRule(new Expr.Repeat(item, 0, Expr.UNBOUNDED), owner, id -> {
                    var loop = new IntList();
                    emit(item, loop, owner);
                    loop.add(REF_BASE + id);
                    return List.of(loop.toArray(), new int[0]);
                }));
            } else if (repeat.max() > repeat.min()) {
                // up_to(k) ::= item up_to(k-1) | "", built from k = 1 upwards so no recursion gets deep
                int previous = -1;
                for (int k = 1; k <= repeat.max() - repeat.min(); k++) {
                    int below = previous;
                    previous = sharedRule(new Expr.Repeat(item, 0, k), owner, id -> {
                        var once = new IntList();
                        emit(item, once, owner);
                        if (below >= 0) once.add(REF_BASE + below);
                        return List.of(once.toArray(), new int[0]);
                    });
                }
                out.add(REF_BASE + previous);
            }
        }

        private int sharedRule(Expr key, String owner, java.util.function.IntFunction<List<int[]>> body) {
            Integer existing = shared.get(key);
            if (existing != null) return existing;
            int id = newRule(owner + "-" + names.size());
            shared.put(key, id);
            rules.set(id, body.apply(id));
            return id;
        }

        private static int bytes(int lo, int hi) {
            return lo << 8 | hi;
        }
    }
}
