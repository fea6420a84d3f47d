package dev.quill.server.template;

import java.time.Duration;

/**
 * Guards against runaway templates: a chat template is model-supplied code that runs on every request, so loops,
 * recursion, growth of strings and lists, and total time are bounded. Defaults are far above what any real chat
 * template needs (they render in well under a millisecond).
 *
 * @param maxOutputChars longest output, and longest string built while rendering
 * @param maxIterations  total loop iterations in one render
 * @param maxCallDepth   nested macro calls
 * @param maxRenderTime  wall-clock budget of one render, checked at every loop iteration and macro call
 */
record Limits(long maxOutputChars, long maxIterations, int maxCallDepth, Duration maxRenderTime) {

    static final Limits DEFAULT = new Limits(16_000_000, 1_000_000, 64, Duration.ofSeconds(5));

    /** Longest list built while rendering. */
    static final int MAX_LIST_ITEMS = 1_000_000;

    /** Jinja's sandbox also caps {@code range()} at this many items. */
    static final int MAX_RANGE = 100_000;

    void checkLength(long length) {
        if (length > maxOutputChars) {
            throw new TemplateException("template output exceeds the limit of " + maxOutputChars + " characters");
        }
    }

    void checkItems(long items) {
        if (items > MAX_LIST_ITEMS) {
            throw new TemplateException("template built a list longer than " + MAX_LIST_ITEMS + " items");
        }
    }
}
