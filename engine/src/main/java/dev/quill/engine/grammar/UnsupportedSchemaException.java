package dev.quill.engine.grammar;

/** A valid JSON Schema using a keyword or a combination Quill cannot enforce; never silently ignored. */
public final class UnsupportedSchemaException extends SchemaException {
    UnsupportedSchemaException(String keyword, String pointer, String problem) {
        super(keyword, pointer, problem);
    }
}
