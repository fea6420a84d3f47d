package dev.quill.engine.tokenizer;

import dev.quill.engine.gguf.GgufException;
import java.util.Collections;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/** The token table of one model: pieces, their types and scores, and the special-token settings. Immutable. */
final class Vocabulary {
    /**
     * Texts of tokens that end generation: llama.cpp's list (it finds them by text, not metadata). Unlike llama.cpp,
     * only control tokens count, so a look-alike that is text (Gemma's HTML tag {@code </s>}) does not stop a model.
     */
    private static final List<String> END_OF_GENERATION_TEXTS = List.of(
            "<|eot_id|>", "<|im_end|>", "<|end|>", "<|return|>", "<|call|>", "<|flush|>", "<|calls|>",
            "<end_of_turn>", "<|endoftext|>", "</s>", "<|eom_id|>", "<EOT>", "_<EOT>", "[EOT]", "[EOS]",
            "<|end_of_text|>", "<end_of_utterance>", "<eos>", "<turn|>", "<|tool_response>", "<｜end▁of▁sentence｜>",
            "[e~[");
    /** Fill-in-the-middle padding / repository / file separators: a model that emits one is done with its answer. */
    private static final List<String> FIM_END_TEXTS = List.of(
            "<|fim_pad|>", "<fim-pad>", "<fim_pad>", "<PAD>", "[PAD]", "<|fim_repo|>", "<|repo_name|>", "<fim-repo>",
            "<REPO>", "<reponame>", "<|file_sep|>");

    private final String[] pieces;
    private final TokenType[] types;
    private final float[] scores;
    private final PieceIndex ids;
    private final int[] byteTokens = new int[256];

    final int bos;
    final int eos;
    final int unk;
    final boolean addBos;
    final boolean addEos;
    final Set<Integer> endOfGeneration;

    /** Special ids are -1 when absent; {@code eot}/{@code eom} are only used to build the end-of-generation set. */
    Vocabulary(String[] pieces, TokenType[] types, float[] scores, int bos, int eos, int unk, int eot, int eom,
               boolean addBos, boolean addEos) {
        this.pieces = pieces;
        this.types = types;
        this.scores = scores;
        this.ids = new PieceIndex(pieces);
        int duplicate = ids.firstDuplicate();
        if (duplicate >= 0) {
            throw new GgufException("duplicate token in vocabulary: '" + pieces[duplicate] + "' has ids "
                    + ids.id(pieces[duplicate]) + " and " + duplicate);
        }
        for (int b = 0; b < 256; b++) byteTokens[b] = ids.id("<0x%02X>".formatted(b));
        this.bos = bos;
        this.eos = eos;
        this.unk = unk;
        this.addBos = addBos;
        this.addEos = addEos;
        this.endOfGeneration = endOfGeneration(eos, eot, eom);
    }

    private Set<Integer> endOfGeneration(int eos, int eot, int eom) {
        Set<Integer> eog = new LinkedHashSet<>();
        for (int id : new int[] {eos, eot, eom}) if (id >= 0) eog.add(id);
        for (List<String> texts : List.of(END_OF_GENERATION_TEXTS, FIM_END_TEXTS)) {
            for (String text : texts) {
                int id = id(text);
                if (id >= 0 && types[id] == TokenType.CONTROL) eog.add(id);
            }
        }
        // gpt-oss and solar-open end a turn with <|return|>/<|call|> (<|calls|>/<|flush|>); there <|end|> only closes
        // a message within the turn. Gemma 4's </s> is text, not an end marker.
        boolean hasCall = eog.contains(id("<|call|>")) || eog.contains(id("<|calls|>"));
        if (hasCall && (eog.contains(id("<|return|>")) || eog.contains(id("<|flush|>")))) eog.remove(id("<|end|>"));
        if (eog.contains(id("<|tool_response>"))) eog.remove(id("</s>"));
        return Collections.unmodifiableSet(eog);
    }

    int size() {
        return pieces.length;
    }

    String piece(int id) {
        return pieces[checked(id)];
    }

    TokenType type(int id) {
        return types[checked(id)];
    }

    float score(int id) {
        return scores[id];
    }

    /** The id of the token spelled exactly {@code piece}, or -1. */
    int id(String piece) {
        return ids.id(piece);
    }

    /** The id of the token spelled {@code s[from, to)}, or -1. */
    int id(String s, int from, int to) {
        return ids.id(s, from, to);
    }

    /** The id of the token spelled {@code s[from, gap) + s[gap + 1, to)}, or -1. */
    int idSkipping(String s, int from, int gap, int to) {
        return ids.idSkipping(s, from, gap, to);
    }

    /** The id of the byte-fallback token {@code <0xNN>} for byte {@code b}, or -1. */
    int byteToken(int b) {
        return byteTokens[b & 0xFF];
    }

    /** Whether text may turn into this token by merging: never control, unknown, byte or unused tokens. */
    boolean isTextToken(int id) {
        TokenType t = types[id];
        return t == TokenType.NORMAL || t == TokenType.USER_DEFINED || t == TokenType.UNDEFINED;
    }

    int checked(int id) {
        if (id < 0 || id >= pieces.length) {
            throw new IllegalArgumentException("token id " + id + " is out of range 0.." + (pieces.length - 1));
        }
        return id;
    }
}
