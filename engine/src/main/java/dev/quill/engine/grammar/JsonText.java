package dev.quill.engine.grammar;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.util.List;
import java.util.Map;

/** Compact JSON text of the plain Java values a JSON parser produces (Map, List, String, Number, Boolean, null). */
final class JsonText {

    private JsonText() {}

    /** @throws IllegalArgumentException for a value that is not JSON (a non-finite number, another class) */
    static String write(Object value) {
        StringBuilder b = new StringBuilder();
        write(value, b);
        return b.toString();
    }

    private static void write(Object value, StringBuilder b) {
        switch (value) {
            case null -> b.append("null");
            case String s -> b.append(quote(s));
            case Boolean bool -> b.append(bool);
            case Integer _, Long _, Short _, Byte _, BigInteger _ -> b.append(value);
            case BigDecimal d -> b.append(d);
            case Double d -> b.append(finite(d));
            case Float f -> b.append(finite(f.doubleValue()));
            case Map<?, ?> map -> {
                b.append('{');
                boolean first = true;
                for (var e : map.entrySet()) {
                    if (!(e.getKey() instanceof String key)) throw new IllegalArgumentException("a JSON object key must be a string");
                    if (!first) b.append(',');
                    first = false;
                    b.append(quote(key)).append(':');
                    write(e.getValue(), b);
                }
                b.append('}');
            }
            case List<?> list -> {
                b.append('[');
                for (int i = 0; i < list.size(); i++) {
                    if (i > 0) b.append(',');
                    write(list.get(i), b);
                }
                b.append(']');
            }
            default -> throw new IllegalArgumentException("not a JSON value: " + value.getClass().getSimpleName());
        }
    }

    private static String finite(double d) {
        if (!Double.isFinite(d)) throw new IllegalArgumentException("not a JSON number: " + d);
        return Double.toString(d);
    }

    /** A JSON string literal; only what must be escaped is ('"', '\\', control characters). */
    static String quote(String s) {
        StringBuilder b = new StringBuilder(s.length() + 2).append('"');
        for (int i = 0; i < s.length(); i++) b.append(escape(s.charAt(i)));
        return b.append('"').toString();
    }

    /** How a character is written inside a JSON string. */
    static String escape(int c) {
        return switch (c) {
            case '"' -> "\\\"";
            case '\\' -> "\\\\";
            case '\n' -> "\\n";
            case '\r' -> "\\r";
            case '\t' -> "\\t";
            case '\b' -> "\\b";
            case '\f' -> "\\f";
            default -> c < 0x20 ? "\\u%04x".formatted(c) : Character.toString(c);
        };
    }
}
