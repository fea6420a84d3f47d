package dev.quill.engine.grammar;

/**
 * A JSON Schema that cannot be turned into a grammar. The message names the keyword and where it is, as a JSON
 * Pointer fragment into the schema ({@code #} is the root, {@code #/properties/name} a property's schema).
 */
public sealed class SchemaException extends IllegalArgumentException permits UnsupportedSchemaException, InvalidSchemaException {

    private final String keyword;
    private final String pointer;

    SchemaException(String keyword, String pointer, String problem) {
        super(problem + " (keyword '" + keyword + "' at " + pointer + ")");
        this.keyword = keyword;
        this.pointer = pointer;
    }

    /** The offending keyword. */
    public String keyword() {
        return keyword;
    }

    /** Where it is: a JSON Pointer fragment such as {@code #/properties/items/items}. */
    public String pointer() {
        return pointer;
    }
}
