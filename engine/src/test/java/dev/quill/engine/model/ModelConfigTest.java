package dev.quill.engine.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.quill.engine.gguf.GgufException;
import dev.quill.engine.gguf.Metadata;
import org.junit.jupiter.api.Test;

class ModelConfigTest {

    /** The keys every supported architecture needs, with llama.cpp's names. */
    private static Metadata minimal(String arch) {
        return new Metadata()
                .putString("general.architecture", arch)
                .putUInt32(arch + ".context_length", 4096)
                .putUInt32(arch + ".embedding_length", 2048)
                .putUInt32(arch + ".block_count", 16)
                .putUInt32(arch + ".feed_forward_length", 8192)
                .putUInt32(arch + ".attention.head_count", 32)
                .putFloat32(arch + ".attention.layer_norm_rms_epsilon", 1e-5f)
                .putStrings("tokenizer.ggml.tokens", new String[] {"a", "b", "c"});
    }

    @Test
    void readsLlamaWithLlamaCppDefaults() {
        ModelConfig c = ModelConfig.from(minimal("llama"));
        assertThat(c.architecture()).isEqualTo(Architecture.LLAMA);
        assertThat(c.dim()).isEqualTo(2048);
        assertThat(c.layers()).isEqualTo(16);
        assertThat(c.ffnDim()).isEqualTo(8192);
        assertThat(c.contextLength()).isEqualTo(4096);
        assertThat(c.heads()).isEqualTo(32);
        assertThat(c.kvHeads()).as("head_count_kv defaults to head_count").isEqualTo(32);
        assertThat(c.headDim()).as("key_length defaults to dim / heads").isEqualTo(64);
        assertThat(c.valueDim()).isEqualTo(64);
        assertThat(c.ropeDims()).as("rope.dimension_count defaults to the head size").isEqualTo(64);
        assertThat(c.ropeTheta()).as("rope.freq_base defaults to 10000").isEqualTo(10000f);
        assertThat(c.ropeFreqScale()).isEqualTo(1f);
        assertThat(c.rmsEps()).isEqualTo(1e-5f);
        assertThat(c.vocabSize()).as("without vocab_size, the token count").isEqualTo(3);
    }

    @Test
    void readsGroupedQueryAttentionRopeBaseAndVocabSize() {
        Metadata md = minimal("qwen2")
                .putUInt32("qwen2.attention.head_count_kv", 8)
                .putFloat32("qwen2.rope.freq_base", 1000000f)
                .putUInt32("qwen2.vocab_size", 151936);
        ModelConfig c = ModelConfig.from(md);
        assertThat(c.architecture().neoxRope).isTrue();
        assertThat(c.architecture().qkvBias).isTrue();
        assertThat(c.kvHeads()).isEqualTo(8);
        assertThat(c.groupSize()).isEqualTo(4);
        assertThat(c.kvDim()).isEqualTo(8 * 64);
        assertThat(c.ropeTheta()).isEqualTo(1000000f);
        assertThat(c.vocabSize()).isEqualTo(151936);
    }

    @Test
    void qwen3HeadSizeComesFromKeyLengthNotDimOverHeads() {
        Metadata md = minimal("qwen3")
                .putUInt32("qwen3.embedding_length", 1024)
                .putUInt32("qwen3.attention.head_count", 16)
                .putUInt32("qwen3.attention.head_count_kv", 8)
                .putUInt32("qwen3.attention.key_length", 128)
                .putUInt32("qwen3.attention.value_length", 128);
        ModelConfig c = ModelConfig.from(md);
        assertThat(c.architecture().qkNorm).isTrue();
        assertThat(c.headDim()).isEqualTo(128);
        assertThat(c.queryDim()).isEqualTo(16 * 128);
        assertThat(c.attentionOutDim()).isEqualTo(16 * 128);
        assertThat(c.ropeDims()).isEqualTo(128);
    }

    @Test
    void linearRopeScalingDividesPositions() {
        Metadata md = minimal("llama").putString("llama.rope.scaling.type", "linear")
                .putFloat32("llama.rope.scaling.factor", 4f);
        assertThat(ModelConfig.from(md).ropeFreqScale()).isEqualTo(0.25f);
        Metadata old = minimal("llama").putFloat32("llama.rope.scale_linear", 2f);
        assertThat(ModelConfig.from(old).ropeFreqScale()).isEqualTo(0.5f);
    }

    @Test
    void rejectsRopeScalingItCannotComputeRatherThanRunningWrongly() {
        Metadata md = minimal("qwen2").putString("qwen2.rope.scaling.type", "yarn")
                .putFloat32("qwen2.rope.scaling.factor", 4f);
        assertThatThrownBy(() -> ModelConfig.from(md)).isInstanceOf(GgufException.class)
                .hasMessageContaining("qwen2.rope.scaling.type").hasMessageContaining("yarn");
    }

    @Test
    void unsupportedArchitectureNamesItAndTheSupportedOnes() {
        assertThatThrownBy(() -> ModelConfig.from(minimal("gemma3"))).isInstanceOf(GgufException.class)
                .hasMessageContaining("'gemma3'").hasMessageContaining("llama, qwen2, qwen3");
    }

    @Test
    void rejectsMixtureOfExpertsModels() {
        Metadata md = minimal("llama").putUInt32("llama.expert_count", 8);
        assertThatThrownBy(() -> ModelConfig.from(md)).isInstanceOf(GgufException.class)
                .hasMessageContaining("mixture-of-experts").hasMessageContaining("llama.expert_count");
    }

    @Test
    void missingOrInvalidKeysAreNamed() {
        Metadata md = minimal("llama");
        md.remove("llama.block_count");
        assertThatThrownBy(() -> ModelConfig.from(md)).isInstanceOf(GgufException.class)
                .hasMessageContaining("llama.block_count");

        Metadata zero = minimal("llama").putUInt32("llama.attention.head_count", 0);
        assertThatThrownBy(() -> ModelConfig.from(zero)).hasMessageContaining("llama.attention.head_count").hasMessageContaining("= 0");

        Metadata gqa = minimal("llama").putUInt32("llama.attention.head_count_kv", 5);
        assertThatThrownBy(() -> ModelConfig.from(gqa)).hasMessageContaining("not a multiple");

        Metadata noVocab = minimal("llama");
        noVocab.remove("tokenizer.ggml.tokens");
        assertThatThrownBy(() -> ModelConfig.from(noVocab)).hasMessageContaining("llama.vocab_size");
    }
}
