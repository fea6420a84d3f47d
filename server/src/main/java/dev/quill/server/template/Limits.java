package dev.quill.server.template;

/**
 * Guards against runaway templates: a chat template is model-supplied code that runs on every request, so loops,
 * recursion and string growth are bounded. Defaults are far above what any real chat template needs.
 *
 * @param maxOutputChars  longest output (and longest string or list built while rendering)
 * @param maxIterations   total loop iterations in one render
 * @param maxCallDepth    nested macro calls
 */
record Limits(long maxOutputChars, long maxIterations, int maxCallDepth) {

    static final Limits DEFAULT = new Limits(16_000_000, 1_000_000, 64);

    /** Jinja's sandbox also caps {@code range()} at this many items. */
    static final int MAX_RANGE = 100_000;

    void checkLength(long length) {
        if (length > maxOutputChars) {
            throw new TemplateException("template output exceeds the limit of " + maxOutputChars + " characters");
        }
    }
}
