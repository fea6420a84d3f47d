package dev.quill.server.protocol;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.JsonNode;
import java.util.List;
import java.util.Map;

/**
 * The error envelope every failed request gets, readable by the OpenAI SDKs ({@code error.message/type/param/code})
 * and the Azure SDK ({@code error.status}, {@code error.detail}); the {@code x-ms-error-code} header carries
 * {@code code}. The Azure reference pages describe the same facts at the top level ({@code message}, {@code code},
 * {@code status}, {@code detail}), so they are repeated there for clients written against those pages; only their
 * {@code error} (a string there) cannot be both, and OpenAI's object wins.
 */
public record ErrorResponse(Body error, String message, String code, int status,
                            @JsonInclude(JsonInclude.Include.NON_NULL) Detail detail) {

    public ErrorResponse(Body error) {
        this(error, error.message(), error.code(), error.status(), error.detail());
    }

    /** {@code detail.value} echoes at most this many levels of nested arrays and objects ... */
    public static final int MAX_ECHO_DEPTH = 16;
    /** ... and at most about this many characters of JSON; anything bigger is described instead (see {@link #echo}). */
    public static final int MAX_ECHO_CHARS = 4096;

    public record Body(String message, String type, String param, String code, int status,
                       @JsonInclude(JsonInclude.Include.NON_NULL) Detail detail) {}

    /** Where the problem is and what was sent there. */
    public record Detail(List<Object> loc, Object value) {}

    /**
     * What {@code detail.value} shows for a value a client sent: the value itself when it is small, otherwise a short
     * description such as {@code "(array nested 998 levels deep; not echoed)"}. This keeps an error about a huge or
     * deeply nested input from being huge itself, or from exceeding the JSON writer's nesting limit.
     */
    public static Object echo(Object value) {
        if (value == null || value instanceof Number || value instanceof Boolean) return value;
        JsonNode node;
        try {
            node = value instanceof JsonNode n ? n : Json.MAPPER.valueToTree(value);
        } catch (RuntimeException notConvertible) {
            return "(value not echoed)";
        }
        if (node == null || !node.isContainerNode() && !node.isTextual()) return value;
        Size size = new Size();
        size.measure(node, 1);
        if (size.tooDeep) return "(" + kind(node) + " nested more than " + MAX_ECHO_DEPTH + " levels deep; not echoed)";
        if (size.chars > MAX_ECHO_CHARS) return "(" + kind(node) + " of more than " + MAX_ECHO_CHARS + " characters; not echoed)";
        return value;
    }

    private static String kind(JsonNode node) {
        return node.isArray() ? "array" : node.isObject() ? "object" : "string";
    }

    /** Measures a value's JSON nesting and approximate length, stopping as soon as either is over its limit. */
    private static final class Size {
        long chars;
        boolean tooDeep;

        boolean over() {
            return tooDeep || chars > MAX_ECHO_CHARS;
        }

        void measure(JsonNode node, int depth) {
            if (node.isContainerNode()) {
                if (depth > MAX_ECHO_DEPTH) {
                    tooDeep = true;
                    return;
                }
                chars += 2;
                if (node.isObject()) {
                    for (Map.Entry<String, JsonNode> field : node.properties()) {
                        chars += field.getKey().length() + 4;
                        measure(field.getValue(), depth + 1);
                        if (over()) return;
                    }
                } else {
                    for (JsonNode element : node) {
                        chars += 1;
                        measure(element, depth + 1);
                        if (over()) return;
                    }
                }
            } else {
                chars += node.isTextual() ? node.textValue().length() + 2 : node.asText().length();
            }
        }
    }

    /**
     * The envelope written by hand, for when writing the full one failed: it cannot throw, so a client always gets
     * an error in the documented shape.
     */
    public static String minimal(String message, String type, String code, int status) {
        return "{\"error\":{\"message\":" + quote(message) + ",\"type\":" + quote(type) + ",\"param\":null,\"code\":"
                + quote(code) + ",\"status\":" + status + "},\"message\":" + quote(message) + ",\"code\":" + quote(code)
                + ",\"status\":" + status + "}";
    }

    private static String quote(String s) {
        if (s == null) return "null";
        StringBuilder sb = new StringBuilder(s.length() + 2).append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '"' || c == '\\') {
                sb.append('\\').append(c);
            } else if (c < 0x20) {
                sb.append(String.format("\\u%04x", (int) c));
            } else if (Character.isHighSurrogate(c) && i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1))) {
                sb.append(c).append(s.charAt(++i));
            } else if (Character.isSurrogate(c)) {
                sb.append('\ufffd'); // a lone surrogate is not Unicode text; written as is it would not be valid UTF-8
            } else {
                sb.append(c);
            }
        }
        return sb.append('"').toString();
    }
}
