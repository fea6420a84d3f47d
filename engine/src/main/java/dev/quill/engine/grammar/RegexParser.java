package dev.quill.engine.grammar;

import java.util.ArrayList;
import java.util.List;

/**
 * Reads the regular-expression subset Quill can turn into a grammar (the common ground of ECMAScript, which JSON
 * Schema's {@code pattern} uses, and java.util.regex):
 * <ul>
 *   <li>literal characters; escaped punctuation ({@code \. \* \\ \/ ...}); {@code \n \r \t \f \v \0 \xHH},
 *       &#92;uHHHH, &#92;u{H...}</li>
 *   <li>{@code .} (any character but the line terminators \n, \r, U+0085, U+2028, U+2029)</li>
 *   <li>classes {@code [abc] [a-z] [^...]}, and {@code \d \D \w \W \s \S} inside or outside them; {@code \d \w \s}
 *       and their negations are as in both engines, except that {@code \s} generates ASCII whitespace only and
 *       {@code \S} excludes all Unicode whitespace (inside a negated class the other way round): a generated string
 *       matches under either engine</li>
 *   <li>groups {@code (...)}, {@code (?:...)}, {@code (?<name>...)}; alternation {@code |}</li>
 *   <li>quantifiers {@code * + ? {n} {n,} {n,m}}, lazy forms included (they match the same strings)</li>
 *   <li>{@code ^} at the start and {@code $} at the end of a top-level alternative</li>
 * </ul>
 * Anything else (look-around, back-references, word boundaries, flags, Unicode property classes, possessive
 * quantifiers, anchors elsewhere) is rejected with a {@link GrammarSyntaxException} naming it, as is a pattern that no
 * string matches (a grammar for it could never finish).
 */
final class RegexParser {

    /** One top-level alternative and whether it was anchored at either end. */
    record Branch(Expr expr, boolean anchoredStart, boolean anchoredEnd) {}

    private static final Chars LINE_TERMINATORS = Chars.anyOf("\n\r\u0085\u2028\u2029");
    private static final Chars DIGIT = Chars.of('0', '9');
    private static final Chars WORD = Chars.ranges('a', 'z', 'A', 'Z', '0', '9', '_', '_');
    private static final Chars ASCII_SPACE = Chars.anyOf(" \t\n\u000B\f\r");
    private static final Chars UNICODE_SPACE = ASCII_SPACE.union(Chars.anyOf("\u00A0\u1680\u2028\u2029\u202F\u205F\u3000\uFEFF"))
            .union(Chars.of(0x2000, 0x200A));

    private final String text;
    private int pos;
    /** Set while the atoms of a negated class ([^...]) are read. */
    private boolean negatedClass;
    private int depth;

    private RegexParser(String text) {
        this.text = text;
    }

    /** The top-level alternatives of {@code regex}. */
    static List<Branch> parse(String regex) {
        RegexParser p = new RegexParser(regex);
        List<Branch> branches = new ArrayList<>();
        do {
            boolean start = p.eat('^');
            Expr body = p.sequence(true);
            boolean end = p.eat('$');
            if (!p.atEnd() && p.peek() != '|') throw p.error(p.peek() == ')' ? "unbalanced ')'" : "'$' before the end of the pattern");
            branches.add(new Branch(body, start, end));
        } while (p.eat('|'));
        if (branches.stream().allMatch(b -> matchesNothing(b.expr()))) throw p.error("the pattern matches no string", 0);
        return branches;
    }

    /** Whether no string matches (an empty class such as [^\s\S] on a path every match must take). */
    private static boolean matchesNothing(Expr e) {
        return switch (e) {
            case Chars c -> c.isEmpty();
            case Expr.Literal literal -> false;
            case Expr.Seq seq -> seq.items().stream().anyMatch(RegexParser::matchesNothing);
            case Expr.Alt alt -> alt.options().stream().allMatch(RegexParser::matchesNothing);
            case Expr.Repeat r -> r.min() > 0 && matchesNothing(r.item());
            case Expr.Ref ref -> false;
        };
    }

    /** The whole text must match (anchors are implied; explicit ones are allowed). */
    static Expr parseAnchored(String regex) {
        return Expr.alt(parse(regex).stream().map(Branch::expr).toList());
    }

    private Expr alternatives() {
        List<Expr> options = new ArrayList<>();
        do options.add(sequence(false)); while (eat('|'));
        return Expr.alt(options);
    }

    private Expr sequence(boolean topLevel) {
        List<Expr> items = new ArrayList<>();
        while (!atEnd()) {
            char c = peek();
            if (c == '|' || c == ')') break;
            if (c == '$') {
                if (topLevel) break;
                throw error("anchor '$' inside a group is not supported");
            }
            if (c == '^') throw error("anchor '^' is only supported at the start of the pattern");
            items.add(quantified(atom()));
        }
        return items.isEmpty() ? Expr.EMPTY : Expr.seq(items);
    }

    private Expr quantified(Expr atom) {
        while (!atEnd()) {
            int start = pos;
            char c = peek();
            int min, max;
            if (c == '*') {
                min = 0;
                max = Expr.UNBOUNDED;
                pos++;
            } else if (c == '+') {
                min = 1;
                max = Expr.UNBOUNDED;
                pos++;
            } else if (c == '?') {
                min = 0;
                max = 1;
                pos++;
            } else if (c == '{' && isBraceQuantifier()) {
                pos++;
                min = number();
                max = min;
                if (eat(',')) max = Character.isDigit(peek()) ? number() : Expr.UNBOUNDED;
                expect('}');
                if (max != Expr.UNBOUNDED && max < min) throw error("quantifier {" + min + "," + max + "} has max < min", start);
            } else {
                break;
            }
            if (peek() == '+') throw error("possessive quantifiers are not supported");
            eat('?'); // lazy: same strings
            atom = Expr.repeat(atom, min, max);
        }
        return atom;
    }

    private boolean isBraceQuantifier() {
        int p = pos + 1;
        int digits = p;
        while (p < text.length() && Character.isDigit(text.charAt(p))) p++;
        if (p == digits) return false;
        if (p < text.length() && text.charAt(p) == ',') {
            p++;
            while (p < text.length() && Character.isDigit(text.charAt(p))) p++;
        }
        return p < text.length() && text.charAt(p) == '}';
    }

    private Expr atom() {
        int start = pos;
        char c = peek();
        switch (c) {
            case '(' -> {
                if (++depth > GbnfParser.MAX_DEPTH) throw error("groups nested deeper than " + GbnfParser.MAX_DEPTH, start);
                pos++;
                if (eat('?')) {
                    if (eat(':')) {
                        // non-capturing
                    } else if (peek() == '<' && pos + 1 < text.length() && Character.isLetter(text.charAt(pos + 1))) {
                        while (!atEnd() && peek() != '>') pos++;
                        expect('>');
                    } else {
                        throw error("group '(?" + (atEnd() ? "" : String.valueOf(peek()))
                                + "' (look-around or flags) is not supported", start);
                    }
                }
                Expr inner = alternatives();
                if (!eat(')')) throw error("missing ')' for the group opened at column " + (start + 1));
                depth--;
                return inner;
            }
            case '[' -> {
                return characterClass();
            }
            case '.' -> {
                pos++;
                return Chars.ANY.minus(LINE_TERMINATORS);
            }
            case '\\' -> {
                return escape(false);
            }
            case '*', '+', '?' -> throw error("quantifier '" + c + "' has nothing to repeat");
            case '{' -> {
                if (isBraceQuantifier()) throw error("quantifier has nothing to repeat");
                pos++;
                return Chars.of('{');
            }
            default -> {
                int cp = text.codePointAt(pos);
                pos += Character.charCount(cp);
                return Chars.of(cp);
            }
        }
    }

    private Chars characterClass() {
        int start = pos;
        pos++;
        boolean negated = eat('^');
        negatedClass = negated;
        Chars set = Chars.NONE;
        boolean first = true;
        while (true) {
            if (atEnd()) throw error("unterminated character class", start);
            if (peek() == ']' && !first) break;
            first = false;
            Chars lo = classAtom();
            if (peek() == '-' && pos + 1 < text.length() && text.charAt(pos + 1) != ']') {
                int dash = pos;
                pos++;
                Chars hi = classAtom();
                if (lo.rangeCount() != 1 || lo.lo(0) != lo.hi(0) || hi.rangeCount() != 1 || hi.lo(0) != hi.hi(0)) {
                    throw error("a range in a character class needs single characters at both ends", dash);
                }
                if (hi.lo(0) < lo.lo(0)) throw error("character range is backwards", dash);
                set = set.union(Chars.of(lo.lo(0), hi.lo(0)));
            } else {
                set = set.union(lo);
            }
        }
        pos++;
        negatedClass = false;
        return negated ? set.negate() : set;
    }

    private Chars classAtom() {
        if (peek() == '\\') {
            Expr e = escape(true);
            return (Chars) e;
        }
        if (text.startsWith("[:", pos)) throw error("POSIX classes like [:alpha:] are not supported");
        int cp = text.codePointAt(pos);
        pos += Character.charCount(cp);
        return Chars.of(cp);
    }

    /** An escape sequence; inside a class {@code \b} is a backspace. */
    private Expr escape(boolean inClass) {
        int start = pos;
        pos++;
        if (atEnd()) throw error("pattern ends with a lone backslash", start);
        char e = text.charAt(pos++);
        return switch (e) {
            case 'd' -> DIGIT;
            case 'D' -> DIGIT.negate();
            case 'w' -> WORD;
            case 'W' -> WORD.negate();
            // What \s generates is ASCII whitespace and what \S generates excludes all Unicode whitespace, so a
            // generated string matches under either engine. A negated class must then exclude every character either
            // engine's \s could match (and for \S, only what no engine's \S matches).
            case 's' -> inClass && negatedClass ? UNICODE_SPACE : ASCII_SPACE;
            case 'S' -> inClass && negatedClass ? ASCII_SPACE.negate() : UNICODE_SPACE.negate();
            case 'n' -> Chars.of('\n');
            case 'r' -> Chars.of('\r');
            case 't' -> Chars.of('\t');
            case 'f' -> Chars.of('\f');
            case 'v' -> Chars.of(0x0B);
            case '0' -> {
                if (Character.isDigit(peek())) throw error("octal escapes are not supported", start);
                yield Chars.of(0);
            }
            case 'x' -> Chars.of(hex(2, start));
            case 'u' -> {
                if (eat('{')) {
                    int from = pos;
                    while (!atEnd() && peek() != '}') pos++;
                    int value = parseHex(text.substring(from, pos), start);
                    expect('}');
                    yield Chars.of(value);
                }
                yield Chars.of(hex(4, start));
            }
            case 'b' -> {
                if (inClass) yield Chars.of('\b');
                throw error("word boundary '\\b' is not supported", start);
            }
            case 'B' -> throw error("word boundary '\\B' is not supported", start);
            case 'p', 'P' -> throw error("Unicode property classes '\\" + e + "{...}' are not supported", start);
            case 'c', 'k' -> throw error("escape '\\" + e + "' is not supported", start);
            default -> {
                if (Character.isDigit(e)) throw error("back-references are not supported", start);
                if (Character.isLetterOrDigit(e)) throw error("unknown escape '\\" + e + "'", start);
                yield Chars.of(e);
            }
        };
    }

    private int hex(int digits, int start) {
        if (pos + digits > text.length()) throw error("escape needs " + digits + " hex digits", start);
        int value = parseHex(text.substring(pos, pos + digits), start);
        pos += digits;
        return value;
    }

    private int parseHex(String digits, int start) {
        try {
            int value = Integer.parseUnsignedInt(digits, 16);
            if (digits.isEmpty() || value > Chars.MAX_CODE_POINT || value >= 0xD800 && value <= 0xDFFF) {
                throw error("escape is not a Unicode scalar value", start);
            }
            return value;
        } catch (NumberFormatException ex) {
            throw error("bad hex digits in escape", start);
        }
    }

    private int number() {
        int from = pos;
        while (!atEnd() && Character.isDigit(peek())) pos++;
        try {
            int n = Integer.parseInt(text.substring(from, pos));
            if (n > 100_000) throw error("repetition count " + n + " is too large (at most 100000)", from);
            return n;
        } catch (NumberFormatException e) {
            throw error("repetition count is too large", from);
        }
    }

    private boolean eat(char c) {
        if (!atEnd() && peek() == c) {
            pos++;
            return true;
        }
        return false;
    }

    private void expect(char c) {
        if (!eat(c)) throw error(atEnd() ? "expected '" + c + "' at the end of the pattern" : "expected '" + c + "'");
    }

    private boolean atEnd() {
        return pos >= text.length();
    }

    private char peek() {
        return atEnd() ? '\0' : text.charAt(pos);
    }

    private GrammarSyntaxException error(String problem) {
        return error(problem, pos);
    }

    /** Patterns are one line: column = offset + 1 (newlines inside a pattern still count as columns). */
    private GrammarSyntaxException error(String problem, int at) {
        return new GrammarSyntaxException(problem + " in /" + text + "/", 1, at + 1);
    }
}
