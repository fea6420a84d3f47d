package dev.quill.engine.grammar;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Reads GBNF, the grammar syntax of llama.cpp:
 * <pre>
 * root   ::= object            # a comment
 * object ::= "{" ws ( pair ( "," ws pair )* )? "}"
 * pair   ::= [a-z]+ ":" ws [0-9]{1,3}
 * ws     ::= [ \t\n]*
 * </pre>
 * A rule is {@code name ::= alternatives}; names are letters, digits, '-' and '_'. Items: {@code "literal"},
 * character classes {@code [a-z]} and {@code [^"\\]} over code points, {@code .} (any character), rule names, and
 * {@code ( ... )} groups; each may be followed by {@code * + ? {m} {m,} {m,n}}. Escapes in literals and classes:
 * {@code \n \r \t \\ \" \' \[ \] \- \^ \/ \xHH}, &#92;uHHHH, {@code \UHHHHHHHH}. Whitespace (newlines included) and
 * {@code #} comments separate anything; a rule's body ends where the next {@code name ::=} begins. The root rule
 * is {@code root}.
 */
final class GbnfParser {

    private final String text;
    private int pos;
    private final Map<String, Expr> rules = new LinkedHashMap<>();
    private final Map<String, Integer> firstReference = new LinkedHashMap<>();
    private final Map<String, Integer> definitions = new LinkedHashMap<>();

    private GbnfParser(String text) {
        this.text = text;
    }

    /** @throws GrammarSyntaxException with the line and column of the first problem */
    static Grammar parse(String text, String root) {
        GbnfParser p = new GbnfParser(text);
        p.grammar();
        for (var ref : p.firstReference.entrySet()) {
            if (!p.rules.containsKey(ref.getKey())) throw p.error("undefined rule '" + ref.getKey() + "'", ref.getValue());
        }
        if (!p.rules.containsKey(root)) throw p.error("the grammar defines no '" + root + "' rule", 0);
        try {
            return Grammar.of(p.rules, root);
        } catch (IllegalArgumentException e) {
            throw p.error(e.getMessage(), p.definitionOf(e.getMessage()));
        }
    }

    /** Where the rule a lowering error names is defined (helper rules are named after their owner + "-N"). */
    private int definitionOf(String message) {
        var m = java.util.regex.Pattern.compile("rule '([A-Za-z0-9_-]+)'").matcher(message);
        if (!m.find()) return 0;
        String name = m.group(1);
        while (!definitions.containsKey(name) && name.matches(".*-[0-9]+")) name = name.substring(0, name.lastIndexOf('-'));
        return definitions.getOrDefault(name, 0);
    }

    private void grammar() {
        skipSpace();
        if (atEnd()) throw error("the grammar is empty", pos);
        while (!atEnd()) {
            int start = pos;
            String name = name();
            if (name == null) throw error("expected a rule name, found '" + describe(peek()) + "'", pos);
            skipSpace();
            if (!text.startsWith("::=", pos)) throw error("expected '::=' after rule name '" + name + "'", pos);
            pos += 3;
            Expr body = alternatives();
            if (rules.putIfAbsent(name, body) != null) throw error("rule '" + name + "' is defined twice", start);
            definitions.put(name, start);
            skipSpace();
        }
    }

    private Expr alternatives() {
        List<Expr> options = new ArrayList<>();
        options.add(sequence());
        while (true) {
            skipSpace();
            if (peek() != '|') break;
            pos++;
            options.add(sequence());
        }
        return Expr.alt(options);
    }

    private Expr sequence() {
        List<Expr> items = new ArrayList<>();
        while (true) {
            skipSpace();
            if (atEnd() || peek() == '|' || peek() == ')' || startsRule()) break;
            items.add(postfix(primary()));
        }
        return Expr.seq(items.isEmpty() ? List.of(Expr.EMPTY) : items);
    }

    private Expr primary() {
        int start = pos;
        char c = peek();
        switch (c) {
            case '"' -> {
                pos++;
                StringBuilder b = new StringBuilder();
                while (true) {
                    if (atEnd()) throw error("unterminated string literal", start);
                    if (peek() == '"') break;
                    b.appendCodePoint(character("string literal"));
                }
                pos++;
                return b.isEmpty() ? Expr.EMPTY : new Expr.Literal(b.toString());
            }
            case '[' -> {
                pos++;
                boolean negated = peek() == '^';
                if (negated) pos++;
                List<Integer> bounds = new ArrayList<>();
                while (true) {
                    if (atEnd()) throw error("unterminated character class", start);
                    if (peek() == ']') break;
                    int from = pos;
                    int lo = character("character class");
                    int hi = lo;
                    if (peek() == '-' && pos + 1 < text.length() && text.charAt(pos + 1) != ']') {
                        pos++;
                        hi = character("character class");
                        if (hi < lo) throw error("character range is backwards", from);
                    }
                    bounds.add(lo);
                    bounds.add(hi);
                }
                pos++;
                Chars chars = Chars.ranges(bounds.stream().mapToInt(Integer::intValue).toArray());
                return negated ? chars.negate() : chars;
            }
            case '(' -> {
                pos++;
                Expr inner = alternatives();
                skipSpace();
                if (peek() != ')') throw error("expected ')' to close the group opened at " + where(start), pos);
                pos++;
                return inner;
            }
            case '.' -> {
                pos++;
                return Chars.ANY;
            }
            default -> {
                String name = name();
                if (name == null) {
                    throw error(atEnd() ? "unexpected end of grammar" : "unexpected '" + describe(c) + "'", pos);
                }
                firstReference.putIfAbsent(name, start);
                return new Expr.Ref(name);
            }
        }
    }

    private Expr postfix(Expr item) {
        while (!atEnd()) {
            char c = peek();
            if (c == '*') item = Expr.star(item);
            else if (c == '+') item = Expr.plus(item);
            else if (c == '?') item = Expr.optional(item);
            else if (c == '{') {
                int start = pos;
                pos++;
                skipSpace();
                int min = number(start);
                int max = min;
                skipSpace();
                if (peek() == ',') {
                    pos++;
                    skipSpace();
                    max = Character.isDigit(peek()) ? number(start) : Expr.UNBOUNDED;
                    skipSpace();
                }
                if (peek() != '}') throw error("expected '}' to close the repetition", pos);
                if (max != Expr.UNBOUNDED && max < min) throw error("repetition {" + min + "," + max + "} has max < min", start);
                item = Expr.repeat(item, min, max);
            } else break;
            pos++;
        }
        return item;
    }

    private int number(int start) {
        int from = pos;
        while (!atEnd() && Character.isDigit(peek())) pos++;
        if (from == pos) throw error("expected a number in the repetition", pos);
        try {
            int n = Integer.parseInt(text.substring(from, pos));
            if (n > 100_000) throw error("repetition count " + n + " is too large (at most 100000)", from);
            return n;
        } catch (NumberFormatException e) {
            throw error("repetition count is too large", start);
        }
    }

    /** One code point of a literal or class, escapes resolved. */
    private int character(String where) {
        int c = text.codePointAt(pos);
        if (c != '\\') {
            pos += Character.charCount(c);
            return c;
        }
        int start = pos;
        pos++;
        if (atEnd()) throw error("unterminated escape in " + where, start);
        char e = text.charAt(pos++);
        return switch (e) {
            case 'n' -> '\n';
            case 'r' -> '\r';
            case 't' -> '\t';
            case '\\', '"', '\'', '[', ']', '-', '^', '/' -> e;
            case 'x' -> hex(2, start);
            case 'u' -> hex(4, start);
            case 'U' -> hex(8, start);
            default -> throw error("unknown escape '\\" + e + "' in " + where, start);
        };
    }

    private int hex(int digits, int start) {
        if (pos + digits > text.length()) throw error("escape needs " + digits + " hex digits", start);
        int value;
        try {
            value = Integer.parseUnsignedInt(text.substring(pos, pos + digits), 16);
        } catch (NumberFormatException e) {
            throw error("escape needs " + digits + " hex digits", start);
        }
        if (value > Chars.MAX_CODE_POINT || Character.isSurrogate((char) value) && value <= 0xFFFF) {
            throw error("escape is not a Unicode scalar value", start);
        }
        pos += digits;
        return value;
    }

    private String name() {
        int start = pos;
        while (!atEnd() && isNameChar(peek())) pos++;
        return pos > start ? text.substring(start, pos) : null;
    }

    /** Whether a new rule ({@code name ::=}) starts here. */
    private boolean startsRule() {
        int p = pos;
        while (p < text.length() && isNameChar(text.charAt(p))) p++;
        if (p == pos) return false;
        while (p < text.length() && (text.charAt(p) == ' ' || text.charAt(p) == '\t' || text.charAt(p) == '\r' || text.charAt(p) == '\n')) p++;
        return text.startsWith("::=", p);
    }

    private static boolean isNameChar(char c) {
        return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_';
    }

    private void skipSpace() {
        while (!atEnd()) {
            char c = peek();
            if (c == '#') {
                while (!atEnd() && peek() != '\n') pos++;
            } else if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
                pos++;
            } else {
                return;
            }
        }
    }

    private boolean atEnd() {
        return pos >= text.length();
    }

    private char peek() {
        return atEnd() ? '\0' : text.charAt(pos);
    }

    private GrammarSyntaxException error(String problem, int at) {
        int line = 1, column = 1;
        for (int i = 0; i < at && i < text.length(); i++) {
            if (text.charAt(i) == '\n') {
                line++;
                column = 1;
            } else {
                column++;
            }
        }
        return new GrammarSyntaxException(problem, line, column);
    }

    private String where(int at) {
        GrammarSyntaxException e = error("", at);
        return "line " + e.line() + ", column " + e.column();
    }

    private static String describe(char c) {
        return Character.isISOControl(c) ? "\\x%02X".formatted((int) c) : String.valueOf(c);
    }

    /** A GBNF string literal for {@code text}. */
    static String quote(String text) {
        StringBuilder b = new StringBuilder("\"");
        text.codePoints().forEach(c -> {
            switch (c) {
                case '"' -> b.append("\\\"");
                case '\\' -> b.append("\\\\");
                default -> b.append(printable(c));
            }
        });
        return b.append('"').toString();
    }

    /** A code point as written inside a GBNF character class. */
    static String escapeInClass(int c) {
        return switch (c) {
            case ']', '[', '\\', '-', '^', '"' -> "\\" + (char) c;
            default -> printable(c);
        };
    }

    private static String printable(int c) {
        return switch (c) {
            case '\n' -> "\\n";
            case '\r' -> "\\r";
            case '\t' -> "\\t";
            default -> {
                if (c < 0x20 || c == 0x7F) yield "\\x%02X".formatted(c);
                if (Character.isISOControl(c) || !Character.isDefined(c) || Character.getType(c) == Character.SPACE_SEPARATOR && c != ' '
                        || Character.getType(c) == Character.FORMAT || Character.getType(c) == Character.PRIVATE_USE) {
                    yield c <= 0xFFFF ? "\\u%04X".formatted(c) : "\\U%08X".formatted(c);
                }
                yield Character.toString(c);
            }
        };
    }
}
