package dev.quill.server.protocol;

/** One completions prompt: text, or token ids the client tokenized itself. */
public sealed interface Prompt {

    record Text(String text) implements Prompt {}

    record Tokens(int[] ids) implements Prompt {}
}
