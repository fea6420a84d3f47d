package dev.quill.server.template;

import dev.quill.server.template.Token.Kind;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Deque;
import java.util.List;

/**
 * Splits a template into tokens the way Jinja2's lexer does under Hugging Face's environment
 * ({@code trim_blocks=True, lstrip_blocks=True}, {@code keep_trailing_newline=False}).
 *
 * <p>Whitespace control is resolved here, so the parser only sees final text:
 * <ul>
 *   <li>{@code {%-}, {@code {{-}, {@code {#-} strip all whitespace before the tag;
 *       {@code -%}}, {@code -}}}, {@code -#}} strip all whitespace after it.</li>
 *   <li>lstrip_blocks: spaces/tabs between a line start and a {@code {%} or {@code {#} are removed
 *       (not before {@code {{}, and not with {@code {%+}).</li>
 *   <li>trim_blocks: the first newline after {@code %}} or {@code #}} is removed (not after {@code +%}}).</li>
 *   <li>Newlines are normalized to {@code \n} and one trailing newline of the source is dropped.</li>
 * </ul>
 */
final class Lexer {

    private static final String[] OPERATORS = {
        "//", "**", "==", "!=", ">=", "<=",
        "+", "-", "/", "*", "%", "~", "[", "]", "(", ")", "{", "}", ">", "<", "=", ".", ":", "|", ",", ";"
    };

    private final String src;
    private final int[] lineStarts;
    private final List<Token> tokens = new ArrayList<>();
    private int pos;
    /** Whether the previous match ended with a newline: lstrip_blocks also applies at such a line start. */
    private boolean lineStarting = true;

    private Lexer(String source) {
        this.src = normalizeNewlines(source);
        this.lineStarts = lineStarts(src);
    }

    static List<Token> tokenize(String source) {
        Lexer lexer = new Lexer(source);
        lexer.lexRoot();
        return lexer.tokens;
    }

    private static String normalizeNewlines(String s) {
        String n = s.replace("\r\n", "\n").replace('\r', '\n');
        return n.endsWith("\n") ? n.substring(0, n.length() - 1) : n;
    }

    private static int[] lineStarts(String s) {
        int[] starts = new int[16];
        int count = 0;
        starts[count++] = 0;
        for (int i = 0; i < s.length(); i++) {
            if (s.charAt(i) == '\n') {
                if (count == starts.length) starts = Arrays.copyOf(starts, count * 2);
                starts[count++] = i + 1;
            }
        }
        return Arrays.copyOf(starts, count);
    }

    private int lineOf(int offset) {
        int i = Arrays.binarySearch(lineStarts, offset);
        return i >= 0 ? i + 1 : -i - 1;
    }

    private int columnOf(int offset) {
        return offset - lineStarts[lineOf(offset) - 1] + 1;
    }

    private TemplateException error(String message, int offset) {
        return new TemplateException(message, lineOf(offset), columnOf(offset));
    }

    private void emit(Kind kind, String text, Object value, int offset) {
        tokens.add(new Token(kind, text, value, lineOf(offset), columnOf(offset)));
    }

    // ---- root state: template data and tag openings ----

    private void lexRoot() {
        while (pos < src.length()) {
            int tag = nextTagStart(pos);
            if (tag < 0) {
                emitText(src.substring(pos), pos);
                break;
            }
            char type = src.charAt(tag + 1);
            char sign = tag + 2 < src.length() ? src.charAt(tag + 2) : 0;
            boolean signed = sign == '-' || sign == '+';
            int afterOpen = tag + 2 + (signed ? 1 : 0);
            int rawBodyStart = type == '%' ? rawBlockEnd(afterOpen) : -1;

            String text = leftStrip(src.substring(pos, tag), signed ? sign : 0, type != '{');
            emitText(text, pos);
            lineStarting = false;

            if (rawBodyStart >= 0) {
                pos = rawBodyStart;
                lexRawBody();
            } else if (type == '#') {
                pos = afterOpen;
                lexComment(tag);
            } else {
                pos = afterOpen;
                emit(type == '{' ? Kind.VAR_BEGIN : Kind.BLOCK_BEGIN, src.substring(tag, afterOpen), null, tag);
                lexTag(type == '{');
            }
        }
        emit(Kind.EOF, "", null, src.length());
    }

    private int nextTagStart(int from) {
        for (int i = src.indexOf('{', from); i >= 0 && i + 1 < src.length(); i = src.indexOf('{', i + 1)) {
            char c = src.charAt(i + 1);
            if (c == '{' || c == '%' || c == '#') return i;
        }
        return -1;
    }

    /** Whitespace control applied to the text in front of a tag with the given sign ('-', '+' or 0). */
    private String leftStrip(String text, char sign, boolean blockOrComment) {
        if (sign == '-') return Py.rstrip(text);
        if (sign == '+' || !blockOrComment) return text;
        int lineStart = text.lastIndexOf('\n') + 1;
        if ((lineStart > 0 || lineStarting) && lineStart < text.length() && allWhitespace(text, lineStart)) {
            return text.substring(0, lineStart);
        }
        return text;
    }

    private static boolean allWhitespace(String s, int from) {
        for (int i = from; i < s.length(); i++) {
            if (!Py.isSpace(s.charAt(i))) return false;
        }
        return true;
    }

    private void emitText(String text, int offset) {
        if (!text.isEmpty()) emit(Kind.TEXT, text, null, offset);
    }

    /** After "{%" (and sign): if this is a "raw" tag, the offset just after it, else -1. */
    private int rawBlockEnd(int from) {
        int i = skipSpaces(from);
        if (!src.startsWith("raw", i)) return -1;
        i = skipSpaces(i + 3);
        if (src.startsWith("-%}", i)) return skipSpaces(i + 3);
        if (src.startsWith("%}", i)) return i + 2;
        return -1;
    }

    private void lexRawBody() {
        int start = pos;
        lineStarting = pos > 0 && src.charAt(pos - 1) == '\n';
        for (int tag = src.indexOf("{%", pos); tag >= 0; tag = src.indexOf("{%", tag + 1)) {
            char sign = tag + 2 < src.length() ? src.charAt(tag + 2) : 0;
            boolean signed = sign == '-' || sign == '+';
            int i = skipSpaces(tag + 2 + (signed ? 1 : 0));
            if (!src.startsWith("endraw", i)) continue;
            i = skipSpaces(i + 6);
            int end = blockEnd(i);
            if (end < 0) continue;
            emitText(leftStrip(src.substring(start, tag), signed ? sign : 0, true), start);
            pos = end;
            return;
        }
        throw error("Missing end of raw directive", start);
    }

    private void lexComment(int open) {
        int close = src.indexOf("#}", pos);
        if (close < 0) throw error("Missing end of comment tag", open);
        char before = close > pos ? src.charAt(close - 1) : 0;
        pos = close + 2;
        if (before == '-') {
            pos = skipSpaces(pos);
            lineStarting = pos > close + 2 && src.charAt(pos - 1) == '\n';
        } else if (before == '+') {
            lineStarting = false;
        } else if (pos < src.length() && src.charAt(pos) == '\n') {
            pos++;
            lineStarting = true;
        } else {
            lineStarting = false;
        }
    }

    /**
     * If a block end ("+%}", "-%}" + whitespace, or "%}" + optional newline) starts at {@code i}, the offset after
     * it, else -1. Sets {@link #lineStarting} accordingly.
     */
    private int blockEnd(int i) {
        if (src.startsWith("+%}", i)) {
            lineStarting = false;
            return i + 3;
        }
        if (src.startsWith("-%}", i)) {
            int end = skipSpaces(i + 3);
            lineStarting = end > i + 3 && src.charAt(end - 1) == '\n';
            return end;
        }
        if (src.startsWith("%}", i)) {
            boolean newline = i + 2 < src.length() && src.charAt(i + 2) == '\n';
            lineStarting = newline;
            return i + (newline ? 3 : 2);
        }
        return -1;
    }

    private int skipSpaces(int i) {
        while (i < src.length() && Py.isSpace(src.charAt(i))) i++;
        return i;
    }

    // ---- inside {{ ... }} and {% ... %} ----

    private void lexTag(boolean variable) {
        Deque<Character> open = new ArrayDeque<>();
        while (true) {
            if (pos >= src.length()) {
                throw error("unexpected end of template, expected '" + (variable ? "}}" : "%}") + "'", pos);
            }
            if (open.isEmpty() && lexTagEnd(variable)) return;
            char c = src.charAt(pos);
            if (Py.isSpace(c)) {
                pos++;
            } else if (c >= '0' && c <= '9') {
                lexNumber();
            } else if (c == '\'' || c == '"') {
                lexString(c);
            } else if (c == '_' || Character.isUnicodeIdentifierStart(src.codePointAt(pos))) {
                int start = pos;
                pos += Character.charCount(src.codePointAt(pos));
                while (pos < src.length() && isIdentifierPart(src.codePointAt(pos))) {
                    pos += Character.charCount(src.codePointAt(pos));
                }
                emit(Kind.NAME, src.substring(start, pos), null, start);
            } else {
                lexOperator(open);
            }
        }
    }

    private static boolean isIdentifierPart(int cp) {
        return cp == '_' || (Character.isUnicodeIdentifierPart(cp) && !Character.isIdentifierIgnorable(cp));
    }

    private boolean lexTagEnd(boolean variable) {
        int start = pos;
        if (variable) {
            if (src.startsWith("-}}", pos)) {
                pos = skipSpaces(pos + 3);
                lineStarting = pos > start + 3 && src.charAt(pos - 1) == '\n';
            } else if (src.startsWith("}}", pos)) {
                pos += 2;
                lineStarting = false;
            } else {
                return false;
            }
            emit(Kind.VAR_END, "}}", null, start);
            return true;
        }
        int end = blockEnd(pos);
        if (end < 0) return false;
        pos = end;
        emit(Kind.BLOCK_END, "%}", null, start);
        return true;
    }

    private void lexOperator(Deque<Character> open) {
        int start = pos;
        for (String op : OPERATORS) {
            if (!src.startsWith(op, pos)) continue;
            char c = op.charAt(0);
            if (op.length() == 1 && (c == '(' || c == '[' || c == '{')) {
                open.push(c == '(' ? ')' : c == '[' ? ']' : '}');
            } else if (op.length() == 1 && (c == ')' || c == ']' || c == '}')) {
                if (open.isEmpty()) throw error("unexpected '" + c + "'", start);
                char expected = open.pop();
                if (expected != c) throw error("unexpected '" + c + "', expected '" + expected + "'", start);
            }
            pos += op.length();
            emit(Kind.OPERATOR, op, null, start);
            return;
        }
        throw error("unexpected char " + Py.repr(src.substring(pos, pos + Character.charCount(src.codePointAt(pos)))),
                start);
    }

    private void lexNumber() {
        int start = pos;
        int intEnd = digits(pos);
        boolean afterDot = start > 0 && src.charAt(start - 1) == '.';
        int floatEnd = afterDot ? -1 : floatEnd(intEnd);
        if (floatEnd > 0) {
            pos = floatEnd;
            String text = src.substring(start, pos);
            emit(Kind.FLOAT, text, Double.parseDouble(text.replace("_", "")), start);
            return;
        }
        String text;
        long value;
        try {
            if (src.charAt(start) == '0' && start + 1 < src.length() && "bBoOxX".indexOf(src.charAt(start + 1)) >= 0) {
                int radix = switch (Character.toLowerCase(src.charAt(start + 1))) {
                    case 'b' -> 2;
                    case 'o' -> 8;
                    default -> 16;
                };
                int end = start + 2;
                while (end < src.length() && (src.charAt(end) == '_' || Character.digit(src.charAt(end), radix) >= 0)) {
                    end++;
                }
                text = src.substring(start, end);
                if (end == start + 2) throw error("invalid integer literal " + text, start);
                value = Long.parseLong(text.substring(2).replace("_", ""), radix);
                pos = end;
            } else if (src.charAt(start) == '0') {
                int end = start + 1;
                while (end < src.length() && (src.charAt(end) == '0' || src.charAt(end) == '_')) end++;
                text = src.substring(start, end);
                value = 0;
                pos = end;
            } else {
                text = src.substring(start, intEnd);
                value = Long.parseLong(text.replace("_", ""));
                pos = intEnd;
            }
        } catch (NumberFormatException e) {
            throw error("integer literal too large: " + src.substring(start, Math.max(intEnd, start + 1)), start);
        }
        emit(Kind.INTEGER, text, value, start);
    }

    /** End of a run of digits with single '_' separators starting at {@code i} (i if none). */
    private int digits(int i) {
        int end = i;
        while (end < src.length() && Character.isDigit(src.charAt(end)) && src.charAt(end) < 128) {
            end++;
            if (end + 1 < src.length() && src.charAt(end) == '_' && isAsciiDigit(src.charAt(end + 1))) end++;
        }
        return end;
    }

    private static boolean isAsciiDigit(char c) {
        return c >= '0' && c <= '9';
    }

    /** Where a float literal whose integer part ends at {@code i} ends, or -1 if it is not a float. */
    private int floatEnd(int i) {
        int end = i;
        boolean fraction = false;
        if (end + 1 < src.length() && src.charAt(end) == '.' && isAsciiDigit(src.charAt(end + 1))) {
            end = digits(end + 1);
            fraction = true;
        }
        if (end < src.length() && (src.charAt(end) == 'e' || src.charAt(end) == 'E')) {
            int e = end + 1;
            if (e < src.length() && (src.charAt(e) == '+' || src.charAt(e) == '-')) e++;
            if (e < src.length() && isAsciiDigit(src.charAt(e))) return digits(e);
        }
        return fraction ? end : -1;
    }

    private void lexString(char quote) {
        int start = pos;
        int i = pos + 1;
        while (i < src.length() && src.charAt(i) != quote) {
            i += src.charAt(i) == '\\' ? 2 : 1;
        }
        if (i >= src.length()) throw error("unterminated string literal", start);
        pos = i + 1;
        String body = src.substring(start + 1, i);
        emit(Kind.STRING, src.substring(start, pos), unescape(body, start), start);
    }

    /** Python string-literal escapes, as Jinja2 decodes them ("unicode-escape"). */
    private String unescape(String s, int offset) {
        if (s.indexOf('\\') < 0) return s;
        StringBuilder out = new StringBuilder(s.length());
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c != '\\' || i + 1 >= s.length()) {
                out.append(c);
                continue;
            }
            char e = s.charAt(++i);
            switch (e) {
                case '\n' -> { }
                case '\\', '\'', '"' -> out.append(e);
                case 'a' -> out.append('\u0007');
                case 'b' -> out.append('\b');
                case 'f' -> out.append('\f');
                case 'n' -> out.append('\n');
                case 'r' -> out.append('\r');
                case 't' -> out.append('\t');
                case 'v' -> out.append('\u000b');
                case 'x', 'u', 'U' -> {
                    int len = e == 'x' ? 2 : e == 'u' ? 4 : 8;
                    String hex = s.substring(i + 1, Math.min(s.length(), i + 1 + len));
                    if (hex.length() < len || !hex.chars().allMatch(h -> Character.digit(h, 16) >= 0)) {
                        throw error("truncated \\" + e + " escape in string literal", offset);
                    }
                    int cp = (int) Long.parseLong(hex, 16);
                    if (!Character.isValidCodePoint(cp)) throw error("illegal Unicode character in string literal", offset);
                    out.appendCodePoint(cp);
                    i += len;
                }
                default -> {
                    if (e >= '0' && e <= '7') {
                        int end = i;
                        while (end < s.length() && end < i + 3 && s.charAt(end) >= '0' && s.charAt(end) <= '7') end++;
                        out.appendCodePoint(Integer.parseInt(s.substring(i, end), 8));
                        i = end - 1;
                    } else {
                        out.append('\\').append(e);
                    }
                }
            }
        }
        return out.toString();
    }
}
