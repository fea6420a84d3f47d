package dev.quill.server.protocol;

import java.util.List;
import java.util.Set;

/**
 * Constraints on the generated text beyond {@code response_format}, honoured with
 * {@code extra-parameters: pass-through}: at most one of them per request.
 *
 * @param grammar a grammar in GBNF (llama.cpp's syntax), or null
 * @param regex   a regular expression the whole output must match, or null
 * @param choice  the output is exactly one of these strings, or null
 */
public record OutputConstraints(String grammar, String regex, List<String> choice) {

    public static final OutputConstraints NONE = new OutputConstraints(null, null, null);

    /** The field names, as they appear in a request body. */
    public static final Set<String> NAMES = Set.of("grammar", "regex", "choice");

    public boolean isEmpty() {
        return grammar == null && regex == null && choice == null;
    }

    /** The request field that holds the constraint, or null when there is none. */
    public String field() {
        return grammar != null ? "grammar" : regex != null ? "regex" : choice != null ? "choice" : null;
    }
}
