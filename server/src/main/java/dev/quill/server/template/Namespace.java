package dev.quill.server.template;

import java.util.LinkedHashMap;
import java.util.Map;

/** The object {@code namespace(...)} returns: the only mutable value, assigned with {@code {% set ns.x = ... %}}. */
final class Namespace {

    private final Map<String, Object> attributes = new LinkedHashMap<>();

    Namespace(Map<String, Object> initial) {
        attributes.putAll(initial);
    }

    Object get(String name) {
        return attributes.containsKey(name) ? attributes.get(name) : Undefined.attribute(this, name);
    }

    void set(String name, Object value) {
        attributes.put(name, value);
    }

    Map<String, Object> attributes() {
        return attributes;
    }
}
