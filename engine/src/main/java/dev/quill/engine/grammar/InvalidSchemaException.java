package dev.quill.engine.grammar;

/** A schema that is malformed (a keyword with a value of the wrong kind, a dangling $ref) or admits no value. */
public final class InvalidSchemaException extends SchemaException {
    InvalidSchemaException(String keyword, String pointer, String problem) {
        super(keyword, pointer, problem);
    }
}
