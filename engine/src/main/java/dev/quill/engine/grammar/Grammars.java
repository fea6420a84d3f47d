package dev.quill.engine.grammar;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The ways to make a {@link Grammar} for constrained decoding. Each result is immutable; compile once and reuse it
 * for every request that needs it. What each accepts is documented in docs/structured-output.md.
 */
public final class Grammars {

    private Grammars() {}

    /**
     * Compact JSON text valid against a JSON Schema, given as the plain Java values a JSON parser produces
     * ({@code Map<String,Object>} in key order, {@code List}, {@code String}, {@code Number}, {@code Boolean},
     * null).
     *
     * @throws UnsupportedSchemaException for a keyword or combination that cannot be enforced (names it and where)
     * @throws InvalidSchemaException     for a malformed schema or one no value satisfies
     */
    public static Grammar jsonSchema(Map<String, Object> schema) {
        return JsonSchemaCompiler.compile(schema);
    }

    /** Any JSON object (OpenAI's {@code response_format: {"type": "json_object"}}), compact. */
    public static Grammar anyJsonObject() {
        return JsonSchemaCompiler.anyObject();
    }

    /** Any JSON value, compact. */
    public static Grammar anyJson() {
        return JsonSchemaCompiler.anyValue();
    }

    /**
     * A grammar in GBNF, llama.cpp's syntax ({@code root ::= ...}); see {@link GbnfParser} for the syntax.
     *
     * @throws GrammarSyntaxException with line and column, for a syntax error, an undefined rule, a missing root
     *                                rule or a left-recursive rule
     */
    public static Grammar gbnf(String text) {
        return GbnfParser.parse(text, "root");
    }

    /**
     * Text that matches a regular expression as a whole (anchors implied); see {@link RegexParser} for the subset.
     *
     * @throws GrammarSyntaxException for a syntax error or an unsupported feature, named
     */
    public static Grammar regex(String regex) {
        return Grammar.of(RegexParser.parseAnchored(regex));
    }

    /**
     * Exactly one of the given strings.
     *
     * @throws IllegalArgumentException if there are none
     */
    public static Grammar choice(List<String> choices) {
        if (choices == null || choices.isEmpty()) throw new IllegalArgumentException("choice needs at least one string");
        List<Expr> options = new ArrayList<>(choices.size());
        for (String c : choices) {
            if (c == null) throw new IllegalArgumentException("choice strings must not be null");
            options.add(c.isEmpty() ? Expr.EMPTY : new Expr.Literal(c));
        }
        return Grammar.of(Expr.alt(options));
    }
}
