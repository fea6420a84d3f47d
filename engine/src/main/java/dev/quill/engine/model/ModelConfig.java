package dev.quill.engine.model;

import dev.quill.engine.gguf.GgufException;
import dev.quill.engine.gguf.Metadata;

/**
 * The hyper-parameters of a model, read from GGUF metadata with llama.cpp's key names and defaults.
 *
 * @param headDim      size of one query/key head ({@code attention.key_length}, default dim/heads; Qwen3 differs)
 * @param valueDim     size of one value head ({@code attention.value_length}, default dim/heads)
 * @param ropeDims     leading elements of each query/key head that rope rotates ({@code rope.dimension_count})
 * @param ropeFreqScale positions are multiplied by this before rotating (1 / linear rope scaling factor)
 */
public record ModelConfig(Architecture architecture, int dim, int layers, int heads, int kvHeads, int headDim,
                          int valueDim, int ffnDim, int vocabSize, int contextLength, float ropeTheta, int ropeDims,
                          float ropeFreqScale, float rmsEps) {

    public ModelConfig {
        if (heads % kvHeads != 0) {
            throw new GgufException("attention.head_count " + heads + " is not a multiple of attention.head_count_kv " + kvHeads);
        }
        if (ropeDims % 2 != 0 || ropeDims > headDim) {
            throw new GgufException("rope.dimension_count " + ropeDims + " must be even and at most the head size " + headDim);
        }
    }

    /** Reads the configuration of a model whose {@code general.architecture} is one of {@link Architecture}. */
    public static ModelConfig from(Metadata md) {
        Architecture arch = Architecture.byId(md.getString("general.architecture"));
        String p = arch.id + ".";
        if (md.getInt(p + "expert_count", 0) > 0) {
            throw new GgufException("mixture-of-experts models are not supported (metadata key '" + p
                    + "expert_count' = " + md.getInt(p + "expert_count") + ")");
        }
        int dim = positive(md, p + "embedding_length");
        int layers = positive(md, p + "block_count");
        int heads = positive(md, p + "attention.head_count");
        int kvHeads = md.has(p + "attention.head_count_kv") ? positive(md, p + "attention.head_count_kv") : heads;
        int headDim = md.has(p + "attention.key_length") ? positive(md, p + "attention.key_length") : dim / heads;
        int valueDim = md.has(p + "attention.value_length") ? positive(md, p + "attention.value_length") : dim / heads;
        int ffn = positive(md, p + "feed_forward_length");
        int context = positive(md, p + "context_length");
        int vocab;
        if (md.has(p + "vocab_size")) {
            vocab = positive(md, p + "vocab_size");
        } else if (md.has("tokenizer.ggml.tokens")) {
            vocab = md.getStringArray("tokenizer.ggml.tokens").length;
        } else {
            throw new GgufException("missing metadata key '" + p + "vocab_size' and no 'tokenizer.ggml.tokens' to count");
        }
        float theta = md.getFloat(p + "rope.freq_base", 10000f);
        int ropeDims = md.has(p + "rope.dimension_count") ? positive(md, p + "rope.dimension_count") : headDim;
        float eps = md.getFloat(p + "attention.layer_norm_rms_epsilon");
        return new ModelConfig(arch, dim, layers, heads, kvHeads, headDim, valueDim, ffn, vocab, context, theta,
                ropeDims, ropeFreqScale(md, p), eps);
    }

    /** Linear rope scaling is supported; YaRN and other schemes would silently give wrong results, so they fail. */
    private static float ropeFreqScale(Metadata md, String p) {
        String type = md.findString(p + "rope.scaling.type").orElse("linear");
        float factor = md.has(p + "rope.scaling.factor") ? md.getFloat(p + "rope.scaling.factor")
                : md.getFloat(p + "rope.scale_linear", 0f);
        if (type.equals("none") || factor == 0f || factor == 1f) return 1f;
        if (!type.equals("linear")) {
            throw new GgufException("metadata key '" + p + "rope.scaling.type' = '" + type
                    + "' is not supported (supported: none, linear)");
        }
        if (!(factor > 0f)) throw new GgufException("metadata key '" + p + "rope.scaling.factor' = " + factor + " must be positive");
        return 1f / factor;
    }

    private static int positive(Metadata md, String key) {
        int v = md.getInt(key);
        if (v <= 0) throw new GgufException("metadata key '" + key + "' = " + v + " must be positive");
        return v;
    }

    /** Query heads that share one key/value head (grouped-query attention). */
    public int groupSize() {
        return heads / kvHeads;
    }

    public int queryDim() {
        return heads * headDim;
    }

    public int kvDim() {
        return kvHeads * headDim;
    }

    public int valueRowDim() {
        return kvHeads * valueDim;
    }

    /** Size of the concatenated attention output that {@code attn_output} projects back to dim. */
    public int attentionOutDim() {
        return heads * valueDim;
    }
}
