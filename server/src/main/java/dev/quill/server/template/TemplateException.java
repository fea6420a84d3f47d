package dev.quill.server.template;

/**
 * A chat template could not be compiled or rendered: a syntax error, a type error while rendering, a
 * {@code raise_exception(...)} called by the template itself, or a guard limit that was hit.
 *
 * <p>{@link #reason()} is the bare explanation (for {@code raise_exception} exactly the template's message);
 * {@link #getMessage()} adds the template position when it is known.
 */
public final class TemplateException extends RuntimeException {

    private final String reason;
    private final int line;
    private final int column;
    private final boolean raisedByTemplate;

    TemplateException(String reason) {
        this(reason, 0, 0, false);
    }

    TemplateException(String reason, int line, int column) {
        this(reason, line, column, false);
    }

    private TemplateException(String reason, int line, int column, boolean raisedByTemplate) {
        super(line > 0 ? reason + " (template line " + line + ", column " + column + ")" : reason);
        this.reason = reason;
        this.line = line;
        this.column = column;
        this.raisedByTemplate = raisedByTemplate;
    }

    /** The error the template itself raised with {@code raise_exception(message)}. */
    static TemplateException raised(String message) {
        return new TemplateException(message, 0, 0, true);
    }

    /** The same error, located at a template position unless it already has one. */
    TemplateException at(int line, int column) {
        if (this.line > 0 || line <= 0) return this;
        TemplateException located = new TemplateException(reason, line, column, raisedByTemplate);
        located.setStackTrace(getStackTrace());
        return located;
    }

    /** The explanation without position; for {@code raise_exception} the template's own message. */
    public String reason() {
        return reason;
    }

    /** 1-based template line, or 0 when unknown. */
    public int line() {
        return line;
    }

    /** 1-based column within {@link #line()}, or 0 when unknown. */
    public int column() {
        return column;
    }

    /**
     * True when the template rejected its input with {@code raise_exception(...)} (e.g. "roles must alternate"):
     * the request is at fault, not the template.
     */
    public boolean raisedByTemplate() {
        return raisedByTemplate;
    }
}
