package dev.quill.engine.grammar;

/** A grammar or regular expression text that does not parse; the message says where (line and column, from 1). */
public final class GrammarSyntaxException extends IllegalArgumentException {

    private final int line;
    private final int column;

    public GrammarSyntaxException(String problem, int line, int column) {
        super("line " + line + ", column " + column + ": " + problem);
        this.line = line;
        this.column = column;
    }

    public int line() {
        return line;
    }

    public int column() {
        return column;
    }
}
