package dev.quill.server.template;

import java.math.BigInteger;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Python's {@code json.dumps}, which transformers installs as the {@code tojson} filter:
 * {@code json.dumps(x, ensure_ascii=False, indent=indent, separators=separators, sort_keys=sort_keys)}.
 * Default separators are {@code ", "} and {@code ": "} (item separator {@code ","} when indenting); floats
 * print as Python's repr; non-ASCII passes through unless {@code ensureAscii}.
 */
final class Json {

    private final boolean ensureAscii;
    private final String indent;
    private final String itemSeparator;
    private final String keySeparator;
    private final boolean sortKeys;
    private final Limits limits;
    private final StringBuilder out = new StringBuilder();

    /**
     * @param indent     null for a single line, else the text repeated per nesting level
     * @param separators null for the defaults, else {item separator, key separator}
     */
    Json(boolean ensureAscii, String indent, String[] separators, boolean sortKeys, Limits limits) {
        this.ensureAscii = ensureAscii;
        this.indent = indent;
        this.itemSeparator = separators != null ? separators[0] : indent == null ? ", " : ",";
        this.keySeparator = separators != null ? separators[1] : ": ";
        this.sortKeys = sortKeys;
        this.limits = limits;
    }

    String dumps(Object value) {
        write(value, 0);
        return out.toString();
    }

    private void write(Object v, int level) {
        limits.checkLength(out.length());
        switch (v) {
            case null -> out.append("null");
            case Boolean b -> out.append(b ? "true" : "false");
            case Long l -> out.append(l);
            case BigInteger b -> out.append(b);
            case Double d -> out.append(d.isNaN() ? "NaN" : d.isInfinite() ? (d > 0 ? "Infinity" : "-Infinity")
                    : Py.floatRepr(d));
            case String s -> string(s);
            case List<?> l -> {
                if (l.isEmpty()) {
                    out.append("[]");
                    return;
                }
                out.append('[');
                for (int i = 0; i < l.size(); i++) {
                    out.append(i == 0 ? "" : itemSeparator);
                    newline(level + 1);
                    write(l.get(i), level + 1);
                }
                newline(level);
                out.append(']');
            }
            case Map<?, ?> m -> {
                if (m.isEmpty()) {
                    out.append("{}");
                    return;
                }
                List<Map.Entry<String, Object>> entries = new ArrayList<>();
                for (Map.Entry<?, ?> e : m.entrySet()) entries.add(Map.entry(key(e.getKey()), nullSafe(e.getValue())));
                if (sortKeys) entries.sort(Map.Entry.comparingByKey());
                out.append('{');
                boolean first = true;
                for (Map.Entry<String, Object> e : entries) {
                    out.append(first ? "" : itemSeparator);
                    first = false;
                    newline(level + 1);
                    string(e.getKey());
                    out.append(keySeparator);
                    write(unwrapNull(e.getValue()), level + 1);
                }
                newline(level);
                out.append('}');
            }
            default -> throw new TemplateException("Object of type " + Py.typeName(v) + " is not JSON serializable");
        }
    }

    private static final Object NULL = new Object();

    private static Object nullSafe(Object v) {
        return v == null ? NULL : v;
    }

    private static Object unwrapNull(Object v) {
        return v == NULL ? null : v;
    }

    /** Python converts int, float, bool and None keys to strings; other key types are an error. */
    private static String key(Object k) {
        return switch (k) {
            case String s -> s;
            case null -> "null";
            case Boolean b -> b ? "true" : "false";
            case Long l -> l.toString();
            case BigInteger b -> b.toString();
            case Double d -> Py.floatRepr(d);
            default -> throw new TemplateException("keys must be str, int, float, bool or None, not " + Py.typeName(k));
        };
    }

    private void newline(int level) {
        if (indent == null) return;
        out.append('\n');
        for (int i = 0; i < level; i++) out.append(indent);
    }

    private void string(String s) {
        out.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> out.append("\\\"");
                case '\\' -> out.append("\\\\");
                case '\n' -> out.append("\\n");
                case '\r' -> out.append("\\r");
                case '\t' -> out.append("\\t");
                case '\b' -> out.append("\\b");
                case '\f' -> out.append("\\f");
                default -> {
                    if (c < 0x20 || (ensureAscii && c > 0x7e)) {
                        out.append(String.format("\\u%04x", (int) c));
                    } else {
                        out.append(c);
                    }
                }
            }
        }
        out.append('"');
    }
}
