package dev.quill.server.protocol;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * The requested output format: {@code text}, {@code json_object} (optionally with a Fireworks-style {@code schema})
 * or {@code json_schema} (OpenAI style, with a name). Validated now; constrained decoding is a separate feature.
 *
 * @param schema the JSON Schema object, or null
 * @param name   the {@code json_schema.name}, or null
 */
public record ResponseFormat(String type, JsonNode schema, String name, boolean strict) {

    public static final ResponseFormat TEXT = new ResponseFormat("text", null, null, false);
}
