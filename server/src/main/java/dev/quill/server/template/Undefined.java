package dev.quill.server.template;

/**
 * Jinja2's default {@code Undefined}: what a missing variable, attribute or item evaluates to. It is falsy, renders
 * as the empty string, iterates as empty and has length 0; anything else (arithmetic, attribute access, calling it,
 * ordering comparisons, JSON) fails with {@link #message()}.
 */
final class Undefined {

    private final String message;

    Undefined(String message) {
        this.message = message;
    }

    /** A variable that no scope, context entry or global defines. */
    static Undefined name(String name) {
        return new Undefined("'" + name + "' is undefined");
    }

    /** A missing attribute or key of an existing object. */
    static Undefined attribute(Object owner, String name) {
        return new Undefined("'" + Py.objectDescription(owner) + "' has no attribute '" + name + "'");
    }

    /** A missing index or non-string key of an existing object. */
    static Undefined element(Object owner, Object key) {
        return new Undefined("'" + Py.objectDescription(owner) + "' has no element " + Py.repr(key));
    }

    /** Why using this value fails. */
    String message() {
        return message;
    }

    TemplateException error() {
        return new TemplateException(message);
    }

    @Override
    public String toString() {
        return "";
    }
}
