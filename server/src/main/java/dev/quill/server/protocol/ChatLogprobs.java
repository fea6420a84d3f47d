package dev.quill.server.protocol;

import java.util.List;

/** Chat logprobs: one entry per generated token, with the requested alternatives. */
public record ChatLogprobs(List<TokenLogprob> content, Object refusal) {

    /** @param bytes the token's UTF-8 bytes (a token may hold part of a character) */
    public record TokenLogprob(String token, float logprob, List<Integer> bytes, List<TopLogprob> topLogprobs) {}

    public record TopLogprob(String token, float logprob, List<Integer> bytes) {}

    public static ChatLogprobs of(List<TokenLogprob> content) {
        return new ChatLogprobs(content, null);
    }
}
