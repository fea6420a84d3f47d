package dev.quill.engine.grammar;

import dev.quill.engine.tokenizer.Tokenizer;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.UnaryOperator;
import java.util.regex.Pattern;

/**
 * A context-free grammar over Unicode text: named rules whose bodies are {@link Expr}s, and a root rule that a
 * whole generation must match. Immutable and thread-safe; compile once (for example per JSON schema) and start a
 * {@link GrammarMatcher} per request.
 *
 * <p>Build one with {@link Grammars} (JSON Schema, GBNF text, regex, choice) or with {@link #builder()}, which can
 * also embed other grammars ({@link Builder#include}), e.g. a tool call's arguments inside a tool-call wrapper.
 */
public final class Grammar {

    private static final Pattern RULE_NAME = Pattern.compile("[A-Za-z0-9_-]+");

    private final Map<String, Expr> rules;
    private final String root;
    private final ByteGrammar lowered;

    private Grammar(Map<String, Expr> rules, String root) {
        this.rules = Collections.unmodifiableMap(new LinkedHashMap<>(rules));
        this.root = root;
        this.lowered = new ByteGrammar(this.rules, root);
    }

    /**
     * @param rules rule bodies by name (names are letters, digits, '-' and '_')
     * @param root  the rule a whole text must match
     * @throws IllegalArgumentException on a bad or undefined rule name, a left-recursive rule, or a root that can
     *                                  never complete
     */
    public static Grammar of(Map<String, Expr> rules, String root) {
        rules.keySet().forEach(Grammar::checkName);
        return new Grammar(rules, root);
    }

    /** A grammar of one rule, {@code root ::= body}. */
    public static Grammar of(Expr body) {
        return of(Map.of("root", body), "root");
    }

    public static Builder builder() {
        return new Builder();
    }

    public String root() {
        return root;
    }

    /** The rules, in definition order. */
    public Map<String, Expr> rules() {
        return rules;
    }

    /** A matcher at the start of the grammar whose masks range over {@code tokenizer}'s vocabulary. */
    public GrammarMatcher matcher(Tokenizer tokenizer) {
        return new GrammarMatcher(new Automaton(lowered), TokenTrie.of(Objects.requireNonNull(tokenizer, "tokenizer")));
    }

    /** A matcher that only matches bytes and text (no token masks). */
    public GrammarMatcher matcher() {
        return new GrammarMatcher(new Automaton(lowered), null);
    }

    /** The fewest bytes of a complete match. */
    public int minLength() {
        return lowered.minLength[lowered.root];
    }

    /** The grammar in GBNF syntax, root rule first; {@link Grammars#gbnf} reads it back. */
    public String toGbnf() {
        StringBuilder b = new StringBuilder();
        b.append(root).append(" ::= ").append(rules.get(root)).append('\n');
        for (var rule : rules.entrySet()) {
            if (!rule.getKey().equals(root)) b.append(rule.getKey()).append(" ::= ").append(rule.getValue()).append('\n');
        }
        return b.toString();
    }

    @Override
    public String toString() {
        return toGbnf();
    }

    private static void checkName(String name) {
        if (name == null || !RULE_NAME.matcher(name).matches()) {
            throw new IllegalArgumentException("bad rule name '" + name + "': use letters, digits, '-' and '_'");
        }
    }

    /** Collects rules; {@link #build} checks and lowers them. */
    public static final class Builder {
        private final Map<String, Expr> rules = new LinkedHashMap<>();

        private Builder() {}

        /** Defines a rule; a name may be defined once. */
        public Builder rule(String name, Expr body) {
            checkName(name);
            Objects.requireNonNull(body, "body");
            if (rules.putIfAbsent(name, body) != null) throw new IllegalArgumentException("rule '" + name + "' is defined twice");
            return this;
        }

        /**
         * Copies every rule of {@code grammar} under the name {@code prefix + "-" + name}, and returns a reference to
         * its root to use in this builder's rules.
         */
        public Expr include(String prefix, Grammar grammar) {
            checkName(prefix);
            UnaryOperator<String> rename = name -> prefix + "-" + name;
            for (var rule : grammar.rules().entrySet()) rule(rename.apply(rule.getKey()), renameRefs(rule.getValue(), rename));
            return new Expr.Ref(rename.apply(grammar.root()));
        }

        public boolean defines(String name) {
            return rules.containsKey(name);
        }

        /** @throws IllegalArgumentException as {@link Grammar#of(Map, String)} */
        public Grammar build(String root) {
            return new Grammar(rules, root);
        }
    }

    private static Expr renameRefs(Expr e, UnaryOperator<String> rename) {
        return switch (e) {
            case Expr.Ref ref -> new Expr.Ref(rename.apply(ref.name()));
            case Expr.Seq seq -> new Expr.Seq(renameAll(seq.items(), rename));
            case Expr.Alt alt -> new Expr.Alt(renameAll(alt.options(), rename));
            case Expr.Repeat r -> new Expr.Repeat(renameRefs(r.item(), rename), r.min(), r.max());
            case Expr.Literal literal -> literal;
            case Chars chars -> chars;
        };
    }

    private static List<Expr> renameAll(List<Expr> items, UnaryOperator<String> rename) {
        return items.stream().map(item -> renameRefs(item, rename)).toList();
    }
}
