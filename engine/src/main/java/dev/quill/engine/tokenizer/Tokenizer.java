package dev.quill.engine.tokenizer;

import java.util.Set;

/** Text ⇄ token ids for one model's vocabulary. Implementations are immutable and thread-safe. */
public interface Tokenizer {

    /**
     * Encodes text.
     *
     * @param addSpecial   add BOS/EOS as the model's metadata asks ({@code tokenizer.ggml.add_bos_token} ...)
     * @param parseSpecial recognise special/control token texts such as {@code <|im_start|>} in the text. Only
     *                     trusted text (a rendered chat template) sets this; user text must not inject them.
     */
    int[] encode(String text, boolean addSpecial, boolean parseSpecial);

    /**
     * Decodes ids to text; special/control tokens are rendered as their text, invalid UTF-8 as U+FFFD. Like Hugging
     * Face's decode, a SentencePiece model's dummy-prefix space at the very start is dropped; no other clean-up
     * (such as {@code clean_up_tokenization_spaces}) is applied, so {@code decode(encode(text))} gives the text back.
     */
    String decode(int[] ids);

    /** The raw bytes a token stands for (byte-fallback and byte-level tokens decoded; leading-space marker mapped). */
    byte[] tokenBytes(int id);

    /** The token's piece as stored in the vocabulary (for display and for looking tokens up). */
    String tokenPiece(int id);

    /** Id of the token whose piece is exactly {@code piece}, or -1. */
    int tokenId(String piece);

    int vocabSize();

    int bosId();

    int eosId();

    /** Tokens that end generation (EOS, EOT, {@code <|im_end|>}, ...). */
    Set<Integer> endOfGenerationIds();

    boolean isSpecial(int id);

    /**
     * A decoder for one output stream that only ever returns whole UTF-8 characters. It renders every token's bytes
     * as they are (a leading space is kept), as suits generated text that continues a prompt.
     */
    StreamingDecoder newStreamingDecoder();

    /** Incremental detokenizer: feed token ids one at a time, get text that never splits a character. */
    interface StreamingDecoder {
        /** Returns the text completed by this token (possibly empty while a multi-byte character is pending). */
        String next(int id);

        /** Flushes what is pending at the end of a stream (an incomplete character becomes U+FFFD). */
        String finish();
    }
}
