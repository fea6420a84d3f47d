package dev.quill.server.template;

/**
 * One lexical token. {@code text} is the source spelling (for TEXT the literal output after whitespace control);
 * {@code value} is the decoded literal for STRING (String), INTEGER (Long) and FLOAT (Double).
 */
record Token(Kind kind, String text, Object value, int line, int column) {

    enum Kind { TEXT, VAR_BEGIN, VAR_END, BLOCK_BEGIN, BLOCK_END, NAME, STRING, INTEGER, FLOAT, OPERATOR, EOF }

    boolean is(Kind k) {
        return kind == k;
    }

    boolean isName(String name) {
        return kind == Kind.NAME && text.equals(name);
    }

    boolean isOperator(String op) {
        return kind == Kind.OPERATOR && text.equals(op);
    }

    /** How an error message names this token, in Jinja's words. */
    String describe() {
        return switch (kind) {
            case EOF -> "end of template";
            case VAR_END -> "end of print statement";
            case BLOCK_END -> "end of statement block";
            case VAR_BEGIN -> "begin of print statement";
            case BLOCK_BEGIN -> "begin of statement block";
            case TEXT -> "template data";
            default -> text;
        };
    }
}
