package dev.quill.engine.grammar;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.math.RoundingMode;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Supplier;

/**
 * Turns a JSON Schema (as the plain Java values a JSON parser produces) into a grammar of compact JSON text that
 * validates against it. docs/structured-output.md lists what is supported; everything else throws an
 * {@link UnsupportedSchemaException} naming the keyword and its location, and a malformed schema an
 * {@link InvalidSchemaException}.
 *
 * <p>Generation choices (each output is valid, the grammar is just narrower than the schema): no whitespace between
 * tokens; object properties in the order the schema declares them; no undeclared properties unless
 * {@code additionalProperties} is a schema (or the object declares no properties at all); numbers in plain decimal
 * notation (see {@link NumberGrammar}); {@code oneOf} generated like {@code anyOf}.
 */
final class JsonSchemaCompiler {

    private static final Set<String> ANNOTATIONS = Set.of("title", "description", "default", "examples", "$comment",
            "$schema", "$id", "deprecated", "readOnly", "writeOnly", "$defs", "definitions");
    private static final Set<String> OBJECT_KEYWORDS = Set.of("properties", "required", "additionalProperties");
    private static final Set<String> ARRAY_KEYWORDS = Set.of("items", "minItems", "maxItems", "uniqueItems");
    private static final Set<String> STRING_KEYWORDS = Set.of("minLength", "maxLength", "pattern", "format");
    private static final Set<String> NUMBER_KEYWORDS = Set.of("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum");
    private static final Set<String> GENERAL_KEYWORDS = Set.of("type", "enum", "const", "anyOf", "oneOf", "allOf", "$ref", "nullable");
    private static final List<String> TYPES = List.of("object", "array", "string", "integer", "number", "boolean", "null");

    /** Characters that may appear unescaped in a JSON string. */
    private static final Chars PLAIN = Chars.of(0x20, Chars.MAX_CODE_POINT).minus(Chars.anyOf("\"\\"));
    private static final Chars HEX = Chars.ranges('0', '9', 'a', 'f', 'A', 'F');

    /** Deeper nesting is refused rather than risking the compiler's stack. */
    private static final int MAX_DEPTH = 100;

    private final Map<String, Object> root;
    private int depth;
    private final Map<String, Expr> rules = new LinkedHashMap<>();
    /** Schema location (a JSON Pointer) to the rule compiled for it, for $ref targets. */
    private final Map<String, String> refRules = new HashMap<>();
    private final Map<String, Integer> nameCounts = new HashMap<>();
    /** Shared rules (any value, string, formats ...) by what they are, to the name they got. */
    private final Map<String, String> shared = new HashMap<>();

    private JsonSchemaCompiler(Map<String, Object> root) {
        this.root = root;
    }

    static Grammar compile(Map<String, Object> schema) {
        if (schema == null) throw new InvalidSchemaException("schema", "#", "the schema is missing");
        JsonSchemaCompiler c = new JsonSchemaCompiler(schema);
        c.rules.put("root", Expr.EMPTY); // placeholder: keeps "root" first and reserved
        c.refRules.put("", "root");
        c.rules.put("root", c.schema(schema, ""));
        try {
            return Grammar.of(c.rules, "root");
        } catch (SchemaException e) {
            throw e;
        } catch (IllegalArgumentException e) {
            // The rules are well formed by construction; what the grammar can still refuse is recursion through $ref
            // that never reaches a complete value ({"$ref": "#"}, or a required property of the schema's own type).
            throw new InvalidSchemaException("$ref", "#", "no finite JSON value satisfies the schema: its $ref "
                    + "recursion never ends");
        }
    }

    /** Any JSON object, members of any JSON values. */
    static Grammar anyObject() {
        JsonSchemaCompiler c = new JsonSchemaCompiler(Map.of());
        c.rules.put("root", c.anyObjectRef());
        return Grammar.of(c.rules, "root");
    }

    /** Any JSON value. */
    static Grammar anyValue() {
        JsonSchemaCompiler c = new JsonSchemaCompiler(Map.of());
        c.rules.put("root", c.anyValueRef());
        return Grammar.of(c.rules, "root");
    }

    // ---- schemas ---------------------------------------------------------------------------------------------

    private Expr schema(Object node, String pointer) {
        if (++depth > MAX_DEPTH) {
            throw new UnsupportedSchemaException("schema", at(pointer), "schemas nested deeper than " + MAX_DEPTH + " are not supported");
        }
        try {
            return schemaAt(node, pointer);
        } finally {
            depth--;
        }
    }

    private Expr schemaAt(Object node, String pointer) {
        if (Boolean.TRUE.equals(node)) return anyValueRef();
        if (Boolean.FALSE.equals(node)) throw new InvalidSchemaException("false", at(pointer), "the schema false admits no value");
        if (!(node instanceof Map<?, ?> raw)) throw new InvalidSchemaException("schema", at(pointer), "a schema must be an object or a boolean");
        Map<String, Object> s = stringKeys(raw, pointer);
        for (String key : s.keySet()) {
            if (!ANNOTATIONS.contains(key) && !GENERAL_KEYWORDS.contains(key) && !OBJECT_KEYWORDS.contains(key)
                    && !ARRAY_KEYWORDS.contains(key) && !STRING_KEYWORDS.contains(key) && !NUMBER_KEYWORDS.contains(key)) {
                throw new UnsupportedSchemaException(key, at(pointer), "unsupported JSON Schema keyword '" + key + "'");
            }
        }
        List<String> assertions = s.keySet().stream().filter(k -> !ANNOTATIONS.contains(k)).toList();

        if (s.containsKey("$ref")) {
            onlyWith(s, pointer, "$ref", Set.of());
            return new Expr.Ref(refRule(s.get("$ref"), pointer));
        }
        if (s.containsKey("allOf")) {
            onlyWith(s, pointer, "allOf", Set.of());
            List<?> all = list(s, "allOf", pointer);
            if (all.size() != 1) {
                throw new UnsupportedSchemaException("allOf", at(pointer), "allOf is supported with exactly one schema, not " + all.size());
            }
            return schema(all.getFirst(), pointer + "/allOf/0");
        }
        boolean nullable = s.containsKey("nullable") && bool(s, "nullable", pointer);
        for (String combinator : List.of("anyOf", "oneOf")) {
            if (!s.containsKey(combinator)) continue;
            onlyWith(s, pointer, combinator, Set.of("nullable"));
            List<?> branches = list(s, combinator, pointer);
            if (branches.isEmpty()) throw new InvalidSchemaException(combinator, at(pointer), combinator + " must not be empty");
            List<Expr> options = new ArrayList<>();
            for (int i = 0; i < branches.size(); i++) options.add(schema(branches.get(i), pointer + "/" + combinator + "/" + i));
            if (nullable) options.add(new Expr.Literal("null"));
            return rule(nameFor(pointer), Expr.alt(options));
        }
        Set<String> types = types(s, pointer, assertions);
        if (nullable) types.add("null");
        if (s.containsKey("const") || s.containsKey("enum")) return constants(s, pointer, s.containsKey("type") ? types : null);

        List<Expr> options = new ArrayList<>();
        if (types.contains("number")) types.remove("integer"); // every integer is a number
        for (String type : types) {
            options.add(switch (type) {
                case "object" -> object(s, pointer);
                case "array" -> array(s, pointer);
                case "string" -> string(s, pointer);
                case "integer" -> integer(s, pointer);
                case "number" -> number(s, pointer);
                case "boolean" -> Expr.alt(new Expr.Literal("true"), new Expr.Literal("false"));
                case "null" -> new Expr.Literal("null");
                default -> throw new IllegalStateException(type);
            });
        }
        return Expr.alt(options);
    }

    /**
     * The types a schema's values may have: its {@code type}, or, without one, the type its keywords imply (a
     * narrower but valid choice for generation), or every type.
     */
    private Set<String> types(Map<String, Object> s, String pointer, List<String> assertions) {
        Set<String> types = new LinkedHashSet<>();
        Object type = s.get("type");
        if (type instanceof String t) {
            types.add(checkType(t, pointer));
        } else if (type instanceof List<?> list) {
            if (list.isEmpty()) throw new InvalidSchemaException("type", at(pointer), "type must not be an empty list");
            for (Object t : list) {
                if (!(t instanceof String name)) throw new InvalidSchemaException("type", at(pointer), "type names must be strings");
                types.add(checkType(name, pointer));
            }
        } else if (type != null) {
            throw new InvalidSchemaException("type", at(pointer), "type must be a string or a list of strings");
        } else if (!s.containsKey("enum") && !s.containsKey("const")) {
            Map<String, Set<String>> implied = new LinkedHashMap<>();
            implied.put("object", OBJECT_KEYWORDS);
            implied.put("array", ARRAY_KEYWORDS);
            implied.put("string", STRING_KEYWORDS);
            implied.put("number", NUMBER_KEYWORDS);
            for (var e : implied.entrySet()) {
                if (assertions.stream().anyMatch(e.getValue()::contains)) types.add(e.getKey());
            }
            if (types.size() > 1) {
                throw new UnsupportedSchemaException("type", at(pointer),
                        "keywords of several types (" + String.join(", ", types) + ") without a 'type'");
            }
            if (types.isEmpty()) types.addAll(TYPES);
        }
        return types;
    }

    private String checkType(String t, String pointer) {
        if (!TYPES.contains(t)) throw new UnsupportedSchemaException("type", at(pointer), "unsupported type '" + t + "'");
        return t;
    }

    /**
     * {@code const} / {@code enum}: the listed values, written as compact JSON; with a {@code type} (null: none),
     * only those of an allowed type.
     */
    private Expr constants(Map<String, Object> s, String pointer, Set<String> types) {
        String keyword = s.containsKey("const") ? "const" : "enum";
        if (s.containsKey("const") && s.containsKey("enum")) {
            throw new UnsupportedSchemaException("enum", at(pointer), "const and enum together are not supported");
        }
        for (String key : s.keySet()) {
            if (!ANNOTATIONS.contains(key) && !key.equals(keyword) && !key.equals("type") && !key.equals("nullable")) {
                throw new UnsupportedSchemaException(key, at(pointer), "'" + key + "' combined with " + keyword + " is not supported");
            }
        }
        List<?> values = keyword.equals("const") ? Collections.singletonList(s.get("const")) : list(s, "enum", pointer);
        List<Expr> options = new ArrayList<>();
        Set<String> seen = new LinkedHashSet<>();
        for (Object value : values) {
            if (types != null && !types.contains(typeOf(value, pointer + "/" + keyword))
                    && !(types.contains("number") && "integer".equals(typeOf(value, pointer)))) {
                continue;
            }
            String text;
            try {
                text = JsonText.write(value);
            } catch (IllegalArgumentException e) {
                throw new InvalidSchemaException(keyword, at(pointer), e.getMessage());
            }
            if (seen.add(text)) options.add(new Expr.Literal(text));
        }
        if (s.containsKey("nullable") && Boolean.TRUE.equals(s.get("nullable")) && seen.add("null")) options.add(new Expr.Literal("null"));
        if (options.isEmpty()) {
            throw new InvalidSchemaException(keyword, at(pointer), "no " + keyword + " value has an allowed type");
        }
        return Expr.alt(options);
    }

    private static String typeOf(Object value, String pointer) {
        return switch (value) {
            case null -> "null";
            case String _ -> "string";
            case Boolean _ -> "boolean";
            case Integer _, Long _, Short _, Byte _, BigInteger _ -> "integer";
            case BigDecimal d -> d.stripTrailingZeros().scale() <= 0 ? "integer" : "number";
            case Double d -> d == Math.rint(d) && Double.isFinite(d) ? "integer" : "number";
            case Float f -> f == Math.rint(f) && Float.isFinite(f) ? "integer" : "number";
            case Map<?, ?> _ -> "object";
            case List<?> _ -> "array";
            default -> throw new InvalidSchemaException("enum", at(pointer), "not a JSON value: " + value.getClass().getSimpleName());
        };
    }

    // ---- objects ---------------------------------------------------------------------------------------------

    private record Property(String name, Expr value, boolean required) {}

    private Expr object(Map<String, Object> s, String pointer) {
        Map<String, Object> properties = s.containsKey("properties")
                ? stringKeys(map(s, "properties", pointer), pointer + "/properties") : Map.of();
        Set<String> required = new LinkedHashSet<>();
        if (s.containsKey("required")) {
            for (Object name : list(s, "required", pointer)) {
                if (!(name instanceof String n)) throw new InvalidSchemaException("required", at(pointer), "required must list strings");
                if (!properties.containsKey(n)) {
                    throw new UnsupportedSchemaException("required", at(pointer),
                            "required property '" + n + "' is not declared in properties");
                }
                required.add(n);
            }
        }
        Object additional = s.get("additionalProperties");
        Expr extraValue = null;
        if (additional instanceof Map<?, ?>) {
            extraValue = schema(additional, pointer + "/additionalProperties");
        } else if (additional != null && !(additional instanceof Boolean)) {
            throw new InvalidSchemaException("additionalProperties", at(pointer), "additionalProperties must be a schema or a boolean");
        } else if (properties.isEmpty() && !Boolean.FALSE.equals(additional)) {
            return anyObjectRef(); // a free-form object
        }
        List<Property> declared = new ArrayList<>();
        for (var p : properties.entrySet()) {
            String at = pointer + "/properties/" + escapePointer(p.getKey());
            declared.add(new Property(p.getKey(), schema(p.getValue(), at), required.contains(p.getKey())));
        }
        String name = nameFor(pointer);
        Expr extra = extraValue == null ? null
                : Expr.seq(quotedKeyExcept(properties.keySet()), new Expr.Literal(":"), extraValue);
        return rule(name, Expr.seq(new Expr.Literal("{"), members(name, declared, extra), new Expr.Literal("}")));
    }

    /**
     * The members in declared order, commas only between present ones. {@code after(i)} is properties i.. each
     * preceded by a comma; {@code first(i)} is properties i.. where the first present one has no comma. Optional
     * properties get helper rules so the grammar stays linear in the number of properties.
     */
    private Expr members(String name, List<Property> declared, Expr extra) {
        int n = declared.size();
        Expr after = extra == null ? Expr.EMPTY : Expr.star(Expr.seq(new Expr.Literal(","), extra));
        Expr first = extra == null ? Expr.EMPTY : Expr.optional(Expr.seq(extra, Expr.star(Expr.seq(new Expr.Literal(","), extra))));
        for (int i = n - 1; i >= 0; i--) {
            Property p = declared.get(i);
            Expr member = Expr.seq(new Expr.Literal(JsonText.quote(p.name()) + ":"), p.value());
            Expr withComma = Expr.seq(new Expr.Literal(","), member);
            Expr nextAfter = p.required() ? Expr.seq(withComma, after) : Expr.seq(Expr.optional(withComma), after);
            Expr nextFirst = p.required() ? Expr.seq(member, after) : Expr.alt(Expr.seq(member, after), first);
            if (!p.required() && i > 0) {
                nextAfter = rule(name + "-after-" + i, nextAfter);
                nextFirst = rule(name + "-from-" + i, nextFirst);
            }
            after = nextAfter;
            first = nextFirst;
        }
        return first;
    }

    /**
     * A JSON string that is none of {@code names}: undeclared keys must not repeat a declared one. Such keys are
     * generated without escape sequences, which keeps "different text" equal to "different key".
     */
    private Expr quotedKeyExcept(Set<String> names) {
        NameTrie trie = new NameTrie();
        for (String name : names) {
            NameTrie node = trie;
            for (int cp : name.codePoints().toArray()) node = node.children.computeIfAbsent(cp, k -> new NameTrie());
            node.endsName = true;
        }
        return Expr.seq(new Expr.Literal("\""), notIn(trie), new Expr.Literal("\""));
    }

    /** The names as a code point trie. */
    private static final class NameTrie {
        final TreeMap<Integer, NameTrie> children = new TreeMap<>();
        boolean endsName;
    }

    /** Strings of plain characters that, following the path to {@code node}, spell none of the names. */
    private static Expr notIn(NameTrie node) {
        List<Expr> options = new ArrayList<>();
        if (!node.endsName) options.add(Expr.EMPTY);
        Chars other = PLAIN;
        for (var child : node.children.entrySet()) {
            Chars c = Chars.of(child.getKey());
            other = other.minus(c);
            if (PLAIN.contains(child.getKey())) options.add(Expr.seq(c, notIn(child.getValue())));
        }
        options.add(Expr.seq(other, Expr.star(PLAIN)));
        return Expr.alt(options);
    }

    // ---- arrays ----------------------------------------------------------------------------------------------

    private Expr array(Map<String, Object> s, String pointer) {
        int min = s.containsKey("minItems") ? count(s, "minItems", pointer) : 0;
        int max = s.containsKey("maxItems") ? count(s, "maxItems", pointer) : Expr.UNBOUNDED;
        if (max != Expr.UNBOUNDED && max < min) throw new InvalidSchemaException("maxItems", at(pointer), "maxItems is below minItems");
        if (s.containsKey("uniqueItems") && bool(s, "uniqueItems", pointer)) {
            throw new UnsupportedSchemaException("uniqueItems", at(pointer), "uniqueItems: true is not supported");
        }
        Object items = s.get("items");
        if (items instanceof List<?>) {
            throw new UnsupportedSchemaException("items", at(pointer), "items as a list (tuple validation) is not supported");
        }
        if (Boolean.FALSE.equals(items)) {
            if (min > 0) throw new InvalidSchemaException("items", at(pointer), "items: false with minItems > 0 admits no value");
            max = 0;
        }
        if (max == 0) return new Expr.Literal("[]");
        Expr item = items == null || Boolean.TRUE.equals(items) ? anyValueRef() : schema(items, pointer + "/items");
        Expr more = Expr.repeat(Expr.seq(new Expr.Literal(","), item), Math.max(0, min - 1),
                max == Expr.UNBOUNDED ? Expr.UNBOUNDED : max - 1);
        Expr elements = Expr.seq(item, more);
        return rule(nameFor(pointer), Expr.seq(new Expr.Literal("["), min == 0 ? Expr.optional(elements) : elements,
                new Expr.Literal("]")));
    }

    // ---- strings ---------------------------------------------------------------------------------------------

    private Expr string(Map<String, Object> s, String pointer) {
        boolean lengths = s.containsKey("minLength") || s.containsKey("maxLength");
        if (s.containsKey("pattern") && (lengths || s.containsKey("format"))) {
            throw new UnsupportedSchemaException("pattern", at(pointer), "pattern combined with "
                    + (lengths ? "minLength/maxLength" : "format") + " is not supported");
        }
        if (s.containsKey("format") && lengths) {
            throw new UnsupportedSchemaException("format", at(pointer), "format combined with minLength/maxLength is not supported");
        }
        Expr quote = new Expr.Literal("\"");
        if (s.containsKey("pattern")) return Expr.seq(quote, pattern(s, pointer), quote);
        if (s.containsKey("format")) return Expr.seq(quote, format(s, pointer), quote);
        if (!lengths) return use("string", () -> Expr.seq(quote, Expr.star(stringChar()), quote));
        int min = s.containsKey("minLength") ? count(s, "minLength", pointer) : 0;
        int max = s.containsKey("maxLength") ? count(s, "maxLength", pointer) : Expr.UNBOUNDED;
        if (max != Expr.UNBOUNDED && max < min) throw new InvalidSchemaException("maxLength", at(pointer), "maxLength is below minLength");
        if (Math.max(min, max) > 100_000) {
            throw new UnsupportedSchemaException(max > min ? "maxLength" : "minLength", at(pointer), "string lengths above 100000 are not supported");
        }
        return Expr.seq(quote, Expr.repeat(stringChar(), min, max), quote);
    }

    /** One character of a JSON string's content: each counts as one code point towards minLength/maxLength. */
    private Expr stringChar() {
        return use("char", () -> Expr.alt(PLAIN, Expr.seq(new Expr.Literal("\\"), Expr.alt(Chars.anyOf("\"\\/bfnrt"),
                // \\uXXXX except surrogate halves, which would not be one valid code point on their own
                Expr.seq(new Expr.Literal("u"), Expr.alt(
                        Expr.seq(HEX.minus(Chars.anyOf("dD")), Expr.repeat(HEX, 3, 3)),
                        Expr.seq(Chars.anyOf("dD"), Chars.of('0', '7'), Expr.repeat(HEX, 2, 2))))))));
    }

    /**
     * {@code pattern}: the regex subset of {@link RegexParser}, matched against the string's value (so characters
     * that JSON must escape are generated escaped). JSON Schema patterns are not anchored: an alternative without
     * {@code ^} or {@code $} may be preceded or followed by anything.
     */
    private Expr pattern(Map<String, Object> s, String pointer) {
        if (!(s.get("pattern") instanceof String regex)) throw new InvalidSchemaException("pattern", at(pointer), "pattern must be a string");
        List<RegexParser.Branch> branches;
        try {
            branches = RegexParser.parse(regex);
        } catch (GrammarSyntaxException e) {
            throw new UnsupportedSchemaException("pattern", at(pointer), "pattern " + e.getMessage());
        }
        List<Expr> options = new ArrayList<>();
        Expr anything = Expr.star(Chars.ANY);
        for (RegexParser.Branch b : branches) {
            options.add(Expr.seq(b.anchoredStart() ? Expr.EMPTY : anything, b.expr(), b.anchoredEnd() ? Expr.EMPTY : anything));
        }
        return inJsonString(Expr.alt(options));
    }

    /** The same text, written as JSON string content. */
    private static Expr inJsonString(Expr e) {
        return switch (e) {
            case Chars c -> jsonChars(c);
            case Expr.Literal literal -> Expr.seq(literal.text().codePoints().mapToObj(Chars::of).map(JsonSchemaCompiler::jsonChars).toList());
            case Expr.Seq seq -> new Expr.Seq(seq.items().stream().map(JsonSchemaCompiler::inJsonString).toList());
            case Expr.Alt alt -> new Expr.Alt(alt.options().stream().map(JsonSchemaCompiler::inJsonString).toList());
            case Expr.Repeat r -> new Expr.Repeat(inJsonString(r.item()), r.min(), r.max());
            case Expr.Ref ref -> ref;
        };
    }

    private static Expr jsonChars(Chars c) {
        Chars special = c.minus(PLAIN);
        if (special.isEmpty()) return c;
        List<Expr> options = new ArrayList<>();
        Chars plain = c.intersect(PLAIN);
        if (!plain.isEmpty()) options.add(plain);
        for (int r = 0; r < special.rangeCount(); r++) {
            for (int cp = special.lo(r); cp <= special.hi(r); cp++) options.add(new Expr.Literal(JsonText.escape(cp)));
        }
        return Expr.alt(options);
    }

    private Expr format(Map<String, Object> s, String pointer) {
        if (!(s.get("format") instanceof String format)) throw new InvalidSchemaException("format", at(pointer), "format must be a string");
        return switch (format) {
            case "date" -> use("date", Formats::date);
            case "time" -> use("time", Formats::time);
            case "date-time" -> use("date-time", () -> Expr.seq(use("date", Formats::date), new Expr.Literal("T"), use("time", Formats::time)));
            case "uuid" -> use("uuid", Formats::uuid);
            case "email" -> use("email", Formats::email);
            default -> throw new UnsupportedSchemaException("format", at(pointer), "unsupported string format '" + format + "'");
        };
    }

    /** String formats as regular expressions, all of whose characters are plain in JSON. */
    private static final class Formats {
        private static final String YEAR = "[0-9]{4}";
        private static final String LEAP_YEAR = "([0-9]{2}(0[48]|[2468][048]|[13579][26])|(0[048]|[2468][048]|[13579][26])00)";

        static Expr date() {
            return RegexParser.parseAnchored(YEAR + "-((0[13578]|1[02])-(0[1-9]|[12][0-9]|3[01])|(0[469]|11)-(0[1-9]|[12][0-9]|30)"
                    + "|02-(0[1-9]|1[0-9]|2[0-8]))|" + LEAP_YEAR + "-02-29");
        }

        static Expr time() {
            return RegexParser.parseAnchored("([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\\.[0-9]{1,9})?(Z|[+-]([01][0-9]|2[0-3]):[0-5][0-9])");
        }

        static Expr uuid() {
            return RegexParser.parseAnchored("[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}");
        }

        static Expr email() {
            return RegexParser.parseAnchored("[A-Za-z0-9_+-]{1,32}(\\.[A-Za-z0-9_+-]{1,32}){0,2}"
                    + "@([a-z0-9]([a-z0-9-]{0,30}[a-z0-9])?\\.){1,3}[a-z]{2,12}");
        }
    }

    // ---- numbers ---------------------------------------------------------------------------------------------

    private Expr integer(Map<String, Object> s, String pointer) {
        Bounds b = bounds(s, pointer);
        BigInteger lo = b.lo == null ? null
                : b.loInclusive ? b.lo.setScale(0, RoundingMode.CEILING).toBigIntegerExact()
                : b.lo.setScale(0, RoundingMode.FLOOR).toBigIntegerExact().add(BigInteger.ONE);
        BigInteger hi = b.hi == null ? null
                : b.hiInclusive ? b.hi.setScale(0, RoundingMode.FLOOR).toBigIntegerExact()
                : b.hi.setScale(0, RoundingMode.CEILING).toBigIntegerExact().subtract(BigInteger.ONE);
        if (lo == null && hi == null) return use("integer", () -> NumberGrammar.integer(null, null));
        Expr e = NumberGrammar.integer(lo, hi);
        if (e == null) throw new InvalidSchemaException("minimum", at(pointer), "no integer lies within the bounds");
        return e;
    }

    private Expr number(Map<String, Object> s, String pointer) {
        Bounds b = bounds(s, pointer);
        if (b.lo == null && b.hi == null) return use("number", () -> NumberGrammar.number(null, false, null, false));
        Expr e = NumberGrammar.number(b.lo, b.loInclusive, b.hi, b.hiInclusive);
        if (e == null) throw new InvalidSchemaException("minimum", at(pointer), "no number lies within the bounds");
        return e;
    }

    private record Bounds(BigDecimal lo, boolean loInclusive, BigDecimal hi, boolean hiInclusive) {}

    /**
     * The tightest of minimum/exclusiveMinimum and maximum/exclusiveMaximum; a boolean exclusiveMinimum (draft 4)
     * makes minimum exclusive.
     */
    private Bounds bounds(Map<String, Object> s, String pointer) {
        BigDecimal lo = null, hi = null;
        boolean loInclusive = true, hiInclusive = true;
        boolean draft4Lo = s.get("exclusiveMinimum") instanceof Boolean, draft4Hi = s.get("exclusiveMaximum") instanceof Boolean;
        if (s.containsKey("minimum")) {
            lo = decimal(s, "minimum", pointer);
            loInclusive = !(draft4Lo && (Boolean) s.get("exclusiveMinimum"));
        }
        if (s.containsKey("exclusiveMinimum") && !draft4Lo) {
            BigDecimal x = decimal(s, "exclusiveMinimum", pointer);
            if (lo == null || x.compareTo(lo) >= 0) {
                lo = x;
                loInclusive = false;
            }
        }
        if (s.containsKey("maximum")) {
            hi = decimal(s, "maximum", pointer);
            hiInclusive = !(draft4Hi && (Boolean) s.get("exclusiveMaximum"));
        }
        if (s.containsKey("exclusiveMaximum") && !draft4Hi) {
            BigDecimal x = decimal(s, "exclusiveMaximum", pointer);
            if (hi == null || x.compareTo(hi) <= 0) {
                hi = x;
                hiInclusive = false;
            }
        }
        for (BigDecimal bound : new BigDecimal[] {lo, hi}) {
            if (bound != null && (bound.abs().compareTo(BigDecimal.TEN.pow(100)) > 0 || bound.stripTrailingZeros().scale() > 100)) {
                throw new UnsupportedSchemaException(bound == lo ? "minimum" : "maximum", at(pointer),
                        "bounds beyond 1e100 or with more than 100 decimals are not supported");
            }
        }
        return new Bounds(lo, loInclusive, hi, hiInclusive);
    }

    // ---- shared rules ----------------------------------------------------------------------------------------

    private Expr anyValueRef() {
        return use("value", () -> Expr.alt(anyObjectRef(), anyArrayRef(), use("string", () -> Expr.seq(new Expr.Literal("\""),
                        Expr.star(stringChar()), new Expr.Literal("\""))),
                use("number", () -> NumberGrammar.number(null, false, null, false)),
                new Expr.Literal("true"), new Expr.Literal("false"), new Expr.Literal("null")));
    }

    private Expr anyObjectRef() {
        return use("object", () -> {
            Expr member = Expr.seq(use("string", () -> Expr.seq(new Expr.Literal("\""), Expr.star(stringChar()), new Expr.Literal("\""))),
                    new Expr.Literal(":"), anyValueRef());
            return Expr.seq(new Expr.Literal("{"), Expr.optional(Expr.seq(member, Expr.star(Expr.seq(new Expr.Literal(","), member)))),
                    new Expr.Literal("}"));
        });
    }

    private Expr anyArrayRef() {
        return use("array", () -> {
            Expr value = anyValueRef();
            return Expr.seq(new Expr.Literal("["), Expr.optional(Expr.seq(value, Expr.star(Expr.seq(new Expr.Literal(","), value)))),
                    new Expr.Literal("]"));
        });
    }

    /** The shared rule for {@code key}, defined by {@code body} on first use (bodies may refer back to it). */
    private Expr use(String key, Supplier<Expr> body) {
        String name = shared.get(key);
        if (name == null) {
            name = fresh(key); // reserves the name, so recursive bodies find it
            shared.put(key, name);
            rules.put(name, body.get());
        }
        return new Expr.Ref(name);
    }

    /** A new rule with a fresh name based on {@code base}. */
    private Expr rule(String base, Expr body) {
        String name = fresh(base);
        rules.put(name, body);
        return new Expr.Ref(name);
    }

    private String fresh(String base) {
        String name = base;
        while (rules.containsKey(name)) name = base + "-" + nameCounts.merge(base, 1, Integer::sum);
        rules.put(name, Expr.EMPTY);
        return name;
    }

    /** A rule name from the last meaningful segment of a schema location. */
    private static String nameFor(String pointer) {
        String[] segments = pointer.split("/");
        for (int i = segments.length - 1; i >= 0; i--) {
            String seg = segments[i].replaceAll("[^A-Za-z0-9_-]", "_");
            if (!seg.isEmpty() && !seg.matches("[0-9]+|items|properties|anyOf|oneOf|allOf|additionalProperties|\\$defs|definitions")) {
                return seg;
            }
        }
        return "schema";
    }

    // ---- $ref ------------------------------------------------------------------------------------------------

    /** The rule for a local {@code $ref} target, compiled once (recursive schemas refer to their own rule). */
    private String refRule(Object ref, String pointer) {
        if (!(ref instanceof String target)) throw new InvalidSchemaException("$ref", at(pointer), "$ref must be a string");
        if (!target.startsWith("#")) {
            throw new UnsupportedSchemaException("$ref", at(pointer), "only local references (#/...) are supported, not '" + target + "'");
        }
        String fragment = URLDecoder.decode(target.substring(1).replace("+", "%2B"), StandardCharsets.UTF_8);
        String existing = refRules.get(fragment);
        if (existing != null) return existing;
        if (!fragment.isEmpty() && !fragment.startsWith("/")) {
            throw new UnsupportedSchemaException("$ref", at(pointer), "anchors ('" + target + "') are not supported; use a JSON Pointer");
        }
        Object node = root;
        for (String segment : fragment.isEmpty() ? new String[0] : fragment.substring(1).split("/", -1)) {
            String key = segment.replace("~1", "/").replace("~0", "~");
            if (node instanceof Map<?, ?> m && m.containsKey(key)) {
                node = m.get(key);
            } else if (node instanceof List<?> l && key.matches("[0-9]+") && Integer.parseInt(key) < l.size()) {
                node = l.get(Integer.parseInt(key));
            } else {
                throw new InvalidSchemaException("$ref", at(pointer), "$ref '" + target + "' points to nothing");
            }
        }
        String name = fresh(nameFor(fragment).equals("value") ? "ref" : nameFor(fragment));
        refRules.put(fragment, name);
        rules.put(name, schema(node, fragment));
        return name;
    }

    // ---- keyword values --------------------------------------------------------------------------------------

    private static void onlyWith(Map<String, Object> s, String pointer, String keyword, Set<String> allowed) {
        for (String key : s.keySet()) {
            if (!key.equals(keyword) && !ANNOTATIONS.contains(key) && !allowed.contains(key)) {
                throw new UnsupportedSchemaException(key, at(pointer), "'" + key + "' next to " + keyword + " is not supported");
            }
        }
    }

    private static Map<String, Object> stringKeys(Map<?, ?> raw, String pointer) {
        Map<String, Object> out = new LinkedHashMap<>();
        for (var e : raw.entrySet()) {
            if (!(e.getKey() instanceof String key)) throw new InvalidSchemaException("schema", at(pointer), "object keys must be strings");
            out.put(key, e.getValue());
        }
        return out;
    }

    private static Map<?, ?> map(Map<String, Object> s, String keyword, String pointer) {
        if (s.get(keyword) instanceof Map<?, ?> m) return m;
        throw new InvalidSchemaException(keyword, at(pointer), keyword + " must be an object");
    }

    private static List<?> list(Map<String, Object> s, String keyword, String pointer) {
        if (s.get(keyword) instanceof List<?> l) return l;
        throw new InvalidSchemaException(keyword, at(pointer), keyword + " must be a list");
    }

    private static boolean bool(Map<String, Object> s, String keyword, String pointer) {
        if (s.get(keyword) instanceof Boolean b) return b;
        throw new InvalidSchemaException(keyword, at(pointer), keyword + " must be true or false");
    }

    private static int count(Map<String, Object> s, String keyword, String pointer) {
        BigDecimal d = decimal(s, keyword, pointer);
        if (d.signum() < 0 || d.stripTrailingZeros().scale() > 0) {
            throw new InvalidSchemaException(keyword, at(pointer), keyword + " must be a non-negative integer");
        }
        if (d.compareTo(BigDecimal.valueOf(Integer.MAX_VALUE)) > 0) {
            throw new UnsupportedSchemaException(keyword, at(pointer), keyword + " is too large");
        }
        return d.intValueExact();
    }

    private static BigDecimal decimal(Map<String, Object> s, String keyword, String pointer) {
        Object v = s.get(keyword);
        try {
            return switch (v) {
                case BigDecimal d -> d;
                case BigInteger i -> new BigDecimal(i);
                case Integer _, Long _, Short _, Byte _ -> BigDecimal.valueOf(((Number) v).longValue());
                case Double _, Float _ -> new BigDecimal(v.toString());
                case null, default -> throw new InvalidSchemaException(keyword, at(pointer), keyword + " must be a number");
            };
        } catch (NumberFormatException e) {
            throw new InvalidSchemaException(keyword, at(pointer), keyword + " must be a finite number");
        }
    }

    private static String escapePointer(String key) {
        return key.replace("~", "~0").replace("/", "~1");
    }

    private static String at(String pointer) {
        return "#" + pointer;
    }
}
