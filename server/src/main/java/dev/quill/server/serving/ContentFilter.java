package dev.quill.server.serving;

import dev.quill.server.protocol.ApiException;
import dev.quill.server.protocol.ErrorKind;
import dev.quill.server.protocol.Loc;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;

/**
 * A deployment's content filter: terms that may appear neither in a prompt nor in generated text.
 *
 * <p>A term matches wherever it occurs in the text as a substring, characters compared one by one ignoring case (as
 * {@link String#regionMatches(boolean, int, String, int, int)} does; no Unicode normalization, no notion of words:
 * "ass" also blocks "class"). A prompt that contains a term is refused with 400 {@code content_filter}; a sequence
 * whose output comes to contain one stops, its text ends where the term begins, and its {@code finish_reason} is
 * {@code content_filter}. Neither the error nor the output ever shows the term.
 */
public record ContentFilter(List<String> blockedTerms) {

    public static final ContentFilter NONE = new ContentFilter(List.of());
    /** The error code of a refused prompt, and the finish reason of a filtered sequence. */
    static final String CONTENT_FILTER = "content_filter";

    public ContentFilter {
        for (String term : blockedTerms) {
            if (term == null || term.isEmpty()) throw new IllegalArgumentException("a blocked term must not be empty");
        }
        blockedTerms = List.copyOf(new LinkedHashSet<>(blockedTerms));
    }

    public boolean isEmpty() {
        return blockedTerms.isEmpty();
    }

    /** The terms of both filters. */
    public ContentFilter and(ContentFilter other) {
        List<String> terms = new ArrayList<>(blockedTerms);
        terms.addAll(other.blockedTerms);
        return new ContentFilter(terms);
    }

    int longestTerm() {
        return blockedTerms.stream().mapToInt(String::length).max().orElse(0);
    }

    /** Where the earliest blocked term in {@code text} starts, searching from {@code from}; -1 when there is none. */
    int find(CharSequence text, int from) {
        String s = text.toString();
        int earliest = -1;
        for (String term : blockedTerms) {
            int last = (earliest < 0 ? s.length() - term.length() : Math.min(earliest - 1, s.length() - term.length()));
            for (int at = Math.max(0, from); at <= last; at++) {
                if (s.regionMatches(true, at, term, 0, term.length())) {
                    earliest = at;
                    break;
                }
            }
        }
        return earliest;
    }

    /** The length of the longest end of {@code text} that begins some blocked term without completing it. */
    int unfinishedTermLength(CharSequence text) {
        String s = text.toString();
        for (int length = Math.min(longestTerm() - 1, s.length()); length > 0; length--) {
            for (String term : blockedTerms) {
                if (term.length() > length && term.regionMatches(true, 0, s, s.length() - length, length)) return length;
            }
        }
        return 0;
    }

    /**
     * Refuses a prompt whose text at {@code loc} contains a blocked term: 400 {@code content_filter}, naming where
     * (never the term, nor the text).
     */
    void checkPrompt(String text, List<Object> loc) {
        if (text == null || find(text, 0) < 0) return;
        throw new ApiException(ErrorKind.BAD_REQUEST, CONTENT_FILTER, "The prompt was filtered: " + Loc.param(loc)
                + " contains a term that this deployment's content filter blocks", loc, null, null);
    }
}
