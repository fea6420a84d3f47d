package dev.quill.server.protocol;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Structural checks for JSON Schema objects sent as tool parameters or response formats: an object whose
 * {@code type}, {@code properties}, {@code items}, {@code required} and {@code enum} keywords have the right shapes,
 * recursively. Keywords this check does not know are left alone.
 */
public final class JsonSchemas {

    private static final Set<String> TYPES = Set.of("object", "array", "string", "number", "integer", "boolean", "null");
    private static final int MAX_DEPTH = 64;

    private JsonSchemas() {}

    public static void check(JsonNode schema, List<Object> loc) {
        check(schema, loc, 0);
    }

    private static void check(JsonNode schema, List<Object> loc, int depth) {
        if (!schema.isObject()) throw ApiException.invalid(loc, schema, Loc.param(loc) + " must be a JSON Schema object");
        if (depth > MAX_DEPTH) throw ApiException.invalid(loc, null, Loc.param(loc) + " is nested too deeply");
        JsonNode type = schema.get("type");
        if (type != null) {
            List<Object> typeLoc = Loc.append(loc, "type");
            if (type.isArray()) {
                for (int i = 0; i < type.size(); i++) checkType(type.get(i), Loc.append(typeLoc, i));
            } else {
                checkType(type, typeLoc);
            }
        }
        JsonNode properties = schema.get("properties");
        if (properties != null) {
            List<Object> propsLoc = Loc.append(loc, "properties");
            if (!properties.isObject()) {
                throw ApiException.invalid(propsLoc, properties, Loc.param(propsLoc) + " must be an object");
            }
            for (Map.Entry<String, JsonNode> property : properties.properties()) {
                check(property.getValue(), Loc.append(propsLoc, property.getKey()), depth + 1);
            }
        }
        JsonNode items = schema.get("items");
        if (items != null && !items.isBoolean()) check(items, Loc.append(loc, "items"), depth + 1);
        JsonNode required = schema.get("required");
        if (required != null) {
            List<Object> reqLoc = Loc.append(loc, "required");
            if (!required.isArray()) throw ApiException.invalid(reqLoc, required, Loc.param(reqLoc) + " must be an array of strings");
            for (int i = 0; i < required.size(); i++) JsonFields.string(required.get(i), Loc.append(reqLoc, i));
        }
        JsonNode enumValues = schema.get("enum");
        if (enumValues != null && !enumValues.isArray()) {
            List<Object> enumLoc = Loc.append(loc, "enum");
            throw ApiException.invalid(enumLoc, enumValues, Loc.param(enumLoc) + " must be an array");
        }
    }

    private static void checkType(JsonNode type, List<Object> loc) {
        if (!type.isTextual() || !TYPES.contains(type.textValue())) {
            throw ApiException.invalid(loc, type, Loc.param(loc) + " must be one of " + String.join(", ", TYPES.stream().sorted().toList()));
        }
    }
}
