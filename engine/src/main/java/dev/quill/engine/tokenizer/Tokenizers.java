package dev.quill.engine.tokenizer;

import dev.quill.engine.gguf.GgufException;
import dev.quill.engine.gguf.Metadata;
import java.util.Arrays;

/**
 * Builds the tokenizer a GGUF file describes with its {@code tokenizer.ggml.*} keys. Missing optional keys take
 * llama.cpp's defaults for the tokenizer model, so files converted by llama.cpp tokenize the way llama.cpp does.
 */
public final class Tokenizers {
    static final String MODEL = "tokenizer.ggml.model";
    static final String PRE = "tokenizer.ggml.pre";
    static final String TOKENS = "tokenizer.ggml.tokens";
    static final String SCORES = "tokenizer.ggml.scores";
    static final String TOKEN_TYPE = "tokenizer.ggml.token_type";
    static final String MERGES = "tokenizer.ggml.merges";
    static final String BOS_ID = "tokenizer.ggml.bos_token_id";
    static final String EOS_ID = "tokenizer.ggml.eos_token_id";
    static final String UNK_ID = "tokenizer.ggml.unknown_token_id";
    static final String EOT_ID = "tokenizer.ggml.eot_token_id";
    static final String EOM_ID = "tokenizer.ggml.eom_token_id";
    static final String ADD_BOS = "tokenizer.ggml.add_bos_token";
    static final String ADD_EOS = "tokenizer.ggml.add_eos_token";
    static final String ADD_SPACE_PREFIX = "tokenizer.ggml.add_space_prefix";

    private Tokenizers() {}

    /**
     * The tokenizer for {@code metadata}: SentencePiece-style for {@code tokenizer.ggml.model = "llama"}, byte-level
     * BPE for {@code "gpt2"}.
     *
     * @throws GgufException if a required key is missing, a value has the wrong type or size, an id is out of range,
     *                       or the tokenizer model or pre-tokenizer is not supported
     */
    public static Tokenizer fromMetadata(Metadata metadata) {
        String model = metadata.getString(MODEL);
        String[] pieces = metadata.getStringArray(TOKENS).clone();
        int n = pieces.length;
        for (int i = 0; i < n; i++) {
            if (pieces[i].isEmpty()) pieces[i] = "[EMPTY_" + i + "]"; // as llama.cpp: keeps ids unique and visible
        }
        TokenType[] types = tokenTypes(metadata, n);
        float[] scores = scores(metadata, n);
        int eot = optionalId(metadata, EOT_ID, -1, n);
        int eom = optionalId(metadata, EOM_ID, -1, n);
        return switch (model) {
            case "llama" -> {
                int bos = optionalId(metadata, BOS_ID, 1, n);
                int eos = optionalId(metadata, EOS_ID, 2, n);
                int unk = optionalId(metadata, UNK_ID, 0, n);
                Vocabulary vocab = new Vocabulary(pieces, types, scores, bos, eos, unk, eot, eom,
                        addBos(metadata, true, bos), addEos(metadata, eos));
                yield new SentencePieceTokenizer(vocab, metadata.getBool(ADD_SPACE_PREFIX, true));
            }
            case "gpt2" -> {
                PreTokenizer pre = PreTokenizer.forName(metadata.findString(PRE).orElse(null));
                String[] merges = metadata.getStringArray(MERGES);
                int bos = optionalId(metadata, BOS_ID, -1, n);
                int eos = optionalId(metadata, EOS_ID, -1, n);
                int unk = optionalId(metadata, UNK_ID, -1, n);
                Vocabulary vocab = new Vocabulary(pieces, types, scores, bos, eos, unk, eot, eom,
                        addBos(metadata, pre.addBos(), bos), addEos(metadata, eos));
                yield new BytePairTokenizer(vocab, merges, pre);
            }
            default -> throw new GgufException(MODEL + " = '" + model + "' is not supported (supported: llama, gpt2)");
        };
    }

    private static TokenType[] tokenTypes(Metadata metadata, int n) {
        TokenType[] types = new TokenType[n];
        if (!metadata.has(TOKEN_TYPE)) {
            Arrays.fill(types, TokenType.NORMAL);
            return types;
        }
        int[] ids = metadata.getIntArray(TOKEN_TYPE);
        requireLength(TOKEN_TYPE, ids.length, n);
        for (int i = 0; i < n; i++) types[i] = TokenType.fromGguf(ids[i]);
        return types;
    }

    private static float[] scores(Metadata metadata, int n) {
        if (!metadata.has(SCORES)) return new float[n];
        // llama.cpp also accepts integer scores.
        float[] scores = metadata.raw(SCORES).value() instanceof int[] ints ? toFloats(ints) : metadata.getFloatArray(SCORES);
        requireLength(SCORES, scores.length, n);
        return scores;
    }

    private static float[] toFloats(int[] ints) {
        float[] floats = new float[ints.length];
        for (int i = 0; i < ints.length; i++) floats[i] = ints[i];
        return floats;
    }

    private static void requireLength(String key, int length, int tokens) {
        if (length < tokens) {
            throw new GgufException("metadata key '" + key + "' has " + length + " entries for " + tokens + " tokens");
        }
    }

    /** The id stored under {@code key}, else {@code dflt} if that is a valid id, else -1. */
    private static int optionalId(Metadata metadata, String key, int dflt, int n) {
        if (!metadata.has(key)) return dflt < n ? dflt : -1;
        long id = metadata.getLong(key);
        if (id < 0 || id >= n) {
            throw new GgufException("metadata key '" + key + "' = " + id + " is not a token id (vocabulary of " + n + ")");
        }
        return (int) id;
    }

    /** add_bos_token, else the model's default; a default cannot add a BOS the file does not name. */
    private static boolean addBos(Metadata metadata, boolean dflt, int bos) {
        if (!metadata.has(ADD_BOS)) return dflt && bos >= 0;
        boolean add = metadata.getBool(ADD_BOS);
        if (add && bos < 0) throw new GgufException(ADD_BOS + " is true, but " + BOS_ID + " is not set");
        return add;
    }

    private static boolean addEos(Metadata metadata, int eos) {
        boolean add = metadata.getBool(ADD_EOS, false);
        if (add && eos < 0) throw new GgufException(ADD_EOS + " is true, but " + EOS_ID + " is not set");
        return add;
    }
}
