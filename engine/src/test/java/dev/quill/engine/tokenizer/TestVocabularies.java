package dev.quill.engine.tokenizer;

import dev.quill.engine.gguf.GgufValueType;
import dev.quill.engine.gguf.Metadata;
import java.util.ArrayList;
import java.util.List;

/** Small hand-made vocabularies, written as GGUF metadata the way llama.cpp's converter would. */
final class TestVocabularies {
    static final int NORMAL = 1, UNKNOWN = 2, CONTROL = 3, USER_DEFINED = 4, UNUSED = 5, BYTE = 6;

    /** Collects tokens in id order. */
    static final class Builder {
        final List<String> pieces = new ArrayList<>();
        final List<Float> scores = new ArrayList<>();
        final List<Integer> types = new ArrayList<>();

        Builder token(String piece, float score, int type) {
            pieces.add(piece);
            scores.add(score);
            types.add(type);
            return this;
        }

        Builder normal(String piece, float score) {
            return token(piece, score, NORMAL);
        }

        /** The 256 SentencePiece byte-fallback tokens {@code <0x00>..<0xFF>}. */
        Builder byteTokens() {
            for (int b = 0; b < 256; b++) token("<0x%02X>".formatted(b), 0, BYTE);
            return this;
        }

        int id(String piece) {
            return pieces.indexOf(piece);
        }

        Metadata metadata(String model) {
            float[] s = new float[scores.size()];
            int[] t = new int[types.size()];
            for (int i = 0; i < s.length; i++) {
                s[i] = scores.get(i);
                t[i] = types.get(i);
            }
            return new Metadata()
                    .putString(Tokenizers.MODEL, model)
                    .putStrings(Tokenizers.TOKENS, pieces.toArray(String[]::new))
                    .putFloats(Tokenizers.SCORES, s)
                    .putInts(Tokenizers.TOKEN_TYPE, t);
        }
    }

    /** <unk>, <s>, </s> (ids 0, 1, 2, as in Llama 2) followed by the byte tokens when {@code withBytes}. */
    static Builder spm(boolean withBytes) {
        Builder b = new Builder().token("<unk>", 0, UNKNOWN).token("<s>", 0, CONTROL).token("</s>", 0, CONTROL);
        return withBytes ? b.byteTokens() : b;
    }

    /** Byte-level BPE metadata: {@code tokens} in id order, {@code merges} in rank order. */
    static Metadata bpe(String pre, List<String> tokens, List<Integer> types, List<String> merges) {
        return new Metadata()
                .putString(Tokenizers.MODEL, "gpt2")
                .putString(Tokenizers.PRE, pre)
                .putStrings(Tokenizers.TOKENS, tokens.toArray(String[]::new))
                .putInts(Tokenizers.TOKEN_TYPE, types.stream().mapToInt(Integer::intValue).toArray())
                .putStrings(Tokenizers.MERGES, merges.toArray(String[]::new));
    }

    static Metadata withUInt32(Metadata m, String key, long value) {
        return m.put(key, GgufValueType.UINT32, value);
    }

    private TestVocabularies() {}
}
