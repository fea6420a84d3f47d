package dev.quill.engine.tokenizer;

import static dev.quill.engine.tokenizer.TestVocabularies.CONTROL;
import static dev.quill.engine.tokenizer.TestVocabularies.NORMAL;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.quill.engine.gguf.GgufException;
import dev.quill.engine.gguf.GgufValueType;
import dev.quill.engine.gguf.Metadata;
import java.util.List;
import org.junit.jupiter.api.Test;

class TokenizersTest {
    private static final List<String> BPE_TOKENS = List.of("a", "b", "ab", "<|begin|>", "<|end|>", "<|im_end|>");
    private static final List<Integer> BPE_TYPES = List.of(NORMAL, NORMAL, NORMAL, CONTROL, CONTROL, CONTROL);

    private static Metadata bpe(String pre) {
        return TestVocabularies.bpe(pre, BPE_TOKENS, BPE_TYPES, List.of("a b"));
    }

    @Test
    void sentencePieceDefaultsFollowLlamaCpp() {
        Metadata m = TestVocabularies.spm(true).normal("▁a", -1).metadata("llama");
        Tokenizer t = Tokenizers.fromMetadata(m);
        assertThat(t.bosId()).isEqualTo(1);
        assertThat(t.eosId()).isEqualTo(2);
        assertThat(t.endOfGenerationIds()).containsExactly(2);
        // add_bos and add_space_prefix default to true, add_eos to false.
        assertThat(t.encode("a", true, false)).containsExactly(1, t.tokenId("▁a"));
    }

    @Test
    void honoursExplicitAddBosAndAddEos() {
        Metadata m = TestVocabularies.spm(true).normal("▁a", -1).metadata("llama")
                .putBool(Tokenizers.ADD_BOS, false).putBool(Tokenizers.ADD_EOS, true);
        Tokenizer t = Tokenizers.fromMetadata(m);
        assertThat(t.encode("a", true, false)).containsExactly(t.tokenId("▁a"), 2);
    }

    @Test
    void llama3AddsBosByDefaultAndQwenDoesNot() {
        Tokenizer llama3 = Tokenizers.fromMetadata(TestVocabularies.withUInt32(bpe("llama-bpe"), Tokenizers.BOS_ID, 3));
        Tokenizer qwen = Tokenizers.fromMetadata(TestVocabularies.withUInt32(bpe("qwen2"), Tokenizers.BOS_ID, 3));
        assertThat(llama3.encode("ab", true, false)).containsExactly(3, 2);
        assertThat(qwen.encode("ab", true, false)).containsExactly(2);
        // Without a BOS id the default cannot apply.
        assertThat(Tokenizers.fromMetadata(bpe("llama-bpe")).encode("ab", true, false)).containsExactly(2);
    }

    @Test
    void endOfGenerationIncludesEotEomAndControlTokensThatEndTurns() {
        Metadata m = TestVocabularies.withUInt32(bpe("qwen2"), Tokenizers.EOS_ID, 4);
        TestVocabularies.withUInt32(m, Tokenizers.EOT_ID, 3);
        assertThat(Tokenizers.fromMetadata(m).endOfGenerationIds()).containsExactlyInAnyOrder(4, 3, 5);
    }

    @Test
    void endOfGenerationIgnoresLookAlikesThatAreNotControlTokens() {
        List<Integer> types = List.of(NORMAL, NORMAL, NORMAL, CONTROL, NORMAL, TestVocabularies.USER_DEFINED);
        Metadata m = TestVocabularies.bpe("qwen2", BPE_TOKENS, types, List.of("a b"));
        assertThat(Tokenizers.fromMetadata(m).endOfGenerationIds()).isEmpty();
    }

    @Test
    void acceptsIntegerScores() {
        Metadata m = TestVocabularies.spm(true).normal("a", 0).normal("aa", 0).metadata("llama")
                .putBool(Tokenizers.ADD_SPACE_PREFIX, false);
        int[] scores = new int[m.getStringArray(Tokenizers.TOKENS).length];
        m.putInts(Tokenizers.SCORES, scores);
        Tokenizer t = Tokenizers.fromMetadata(m);
        assertThat(t.encode("aa", false, false)).containsExactly(t.tokenId("aa"));
    }

    @Test
    void doesNotModifyTheMetadata() {
        Metadata m = TestVocabularies.spm(true).normal("", 0).metadata("llama");
        Tokenizer t = Tokenizers.fromMetadata(m);
        assertThat(t.tokenPiece(259)).isEqualTo("[EMPTY_259]");
        assertThat(m.getStringArray(Tokenizers.TOKENS)[259]).isEmpty();
    }

    @Test
    void rejectsUnsupportedModels() {
        Metadata m = TestVocabularies.spm(false).metadata("bert");
        assertThatThrownBy(() -> Tokenizers.fromMetadata(m))
                .isInstanceOf(GgufException.class)
                .hasMessage("tokenizer.ggml.model = 'bert' is not supported (supported: llama, gpt2)");
    }

    @Test
    void rejectsMissingTokens() {
        Metadata m = new Metadata().putString(Tokenizers.MODEL, "llama");
        assertThatThrownBy(() -> Tokenizers.fromMetadata(m))
                .isInstanceOf(GgufException.class)
                .hasMessageContaining("'tokenizer.ggml.tokens'");
    }

    @Test
    void rejectsTooFewScoresOrTypes() {
        Metadata scores = TestVocabularies.spm(false).metadata("llama").putFloats(Tokenizers.SCORES, new float[2]);
        assertThatThrownBy(() -> Tokenizers.fromMetadata(scores))
                .isInstanceOf(GgufException.class)
                .hasMessage("metadata key 'tokenizer.ggml.scores' has 2 entries for 3 tokens");
        Metadata types = TestVocabularies.spm(false).metadata("llama").putInts(Tokenizers.TOKEN_TYPE, new int[1]);
        assertThatThrownBy(() -> Tokenizers.fromMetadata(types))
                .isInstanceOf(GgufException.class)
                .hasMessage("metadata key 'tokenizer.ggml.token_type' has 1 entries for 3 tokens");
    }

    @Test
    void rejectsSpecialIdsOutsideTheVocabulary() {
        Metadata m = TestVocabularies.withUInt32(bpe("qwen2"), Tokenizers.EOS_ID, 99);
        assertThatThrownBy(() -> Tokenizers.fromMetadata(m))
                .isInstanceOf(GgufException.class)
                .hasMessage("metadata key 'tokenizer.ggml.eos_token_id' = 99 is not a token id (vocabulary of 6)");
    }

    @Test
    void rejectsAddingABosThatIsNotNamed() {
        Metadata m = bpe("qwen2").putBool(Tokenizers.ADD_BOS, true);
        assertThatThrownBy(() -> Tokenizers.fromMetadata(m))
                .isInstanceOf(GgufException.class)
                .hasMessage("tokenizer.ggml.add_bos_token is true, but tokenizer.ggml.bos_token_id is not set");
    }

    @Test
    void rejectsBpeWithoutMergesAndUnknownPreTokenizers() {
        Metadata noMerges = bpe("qwen2");
        noMerges.remove(Tokenizers.MERGES);
        assertThatThrownBy(() -> Tokenizers.fromMetadata(noMerges))
                .isInstanceOf(GgufException.class)
                .hasMessageContaining("'tokenizer.ggml.merges'");
        assertThatThrownBy(() -> Tokenizers.fromMetadata(bpe("no-such-pre")))
                .isInstanceOf(GgufException.class)
                .hasMessageContaining("tokenizer.ggml.pre = 'no-such-pre'");
    }

    @Test
    void rejectsDuplicatePieces() {
        Metadata m = TestVocabularies.spm(false).normal("<s>", 0).metadata("llama");
        assertThatThrownBy(() -> Tokenizers.fromMetadata(m))
                .isInstanceOf(GgufException.class)
                .hasMessage("duplicate token in vocabulary: '<s>' has ids 1 and 3");
    }

    @Test
    void rejectsWrongValueTypes() {
        Metadata m = TestVocabularies.spm(false).metadata("llama").put(Tokenizers.BOS_ID, GgufValueType.STRING, "1");
        assertThatThrownBy(() -> Tokenizers.fromMetadata(m))
                .isInstanceOf(GgufException.class)
                .hasMessageContaining("'tokenizer.ggml.bos_token_id'");
    }
}
