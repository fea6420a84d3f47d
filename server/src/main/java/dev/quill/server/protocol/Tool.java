package dev.quill.server.protocol;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.regex.Pattern;

/**
 * A function the model may call ({@code {"type":"function","function":{...}}}).
 *
 * @param parameters the JSON Schema object of the arguments, or null for no parameters
 */
public record Tool(String name, String description, JsonNode parameters, Boolean strict) {

    /** Function names: a-z, A-Z, 0-9, underscores and dashes, at most 64 characters. */
    public static final Pattern NAME = Pattern.compile("^[a-zA-Z0-9_-]{1,64}$");
}
