package dev.quill.server.serving;

import dev.quill.engine.tokenizer.Tokenizer;
import java.util.List;
import java.util.Optional;

/**
 * The fill-in-the-middle control tokens of a vocabulary, if it has them. A FIM prompt is laid out
 * prefix-suffix-middle: {@code <prefix> prompt <suffix> suffix <middle>}, and the model writes the middle.
 */
public record FimTokens(int prefix, int suffix, int middle) {

    /** Piece spellings of the known FIM conventions (Qwen / DeepSeek-style, StarCoder-style, CodeLlama-style). */
    private static final List<List<String>> CONVENTIONS = List.of(
            List.of("<|fim_prefix|>", "<|fim_suffix|>", "<|fim_middle|>"),
            List.of("<fim_prefix>", "<fim_suffix>", "<fim_middle>"),
            List.of("▁<PRE>", "▁<SUF>", "▁<MID>"));

    public static Optional<FimTokens> find(Tokenizer tokenizer) {
        for (List<String> pieces : CONVENTIONS) {
            int p = tokenizer.tokenId(pieces.get(0));
            int s = tokenizer.tokenId(pieces.get(1));
            int m = tokenizer.tokenId(pieces.get(2));
            if (p >= 0 && s >= 0 && m >= 0) return Optional.of(new FimTokens(p, s, m));
        }
        return Optional.empty();
    }
}
