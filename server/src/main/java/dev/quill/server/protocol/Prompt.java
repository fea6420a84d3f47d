package dev.quill.server.protocol;

/** One completions prompt: text, or token ids the client tokenized itself. */
public sealed interface Prompt {

    record Text(String text) implements Prompt {}

    /** @param loc where the ids were in the request, for errors about single ids */
    record Tokens(int[] ids, java.util.List<Object> loc) implements Prompt {}
}
