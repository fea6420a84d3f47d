package dev.quill.engine.model;

import dev.quill.engine.gguf.GgufException;
import dev.quill.engine.gguf.GgufFile;
import dev.quill.engine.gguf.TensorInfo;
import dev.quill.engine.tensor.GgmlType;
import dev.quill.engine.tensor.WeightMatrices;
import dev.quill.engine.tensor.WeightMatrix;
import java.util.Arrays;
import java.util.stream.Collectors;

/**
 * The tensors of a model, checked against its configuration. Matrices stay in the mapped file in their GGUF type;
 * the small 1-D tensors (norm weights, biases, rope factors) are read into float arrays.
 *
 * @param output          the output projection, or the token embedding when the model ties them
 * @param ropeFreqFactors Llama 3 rope frequency divisors ({@code rope_freqs.weight}), or null
 */
record ModelWeights(WeightMatrix tokenEmbedding, Layer[] layers, float[] outputNorm, WeightMatrix output,
                    float[] ropeFreqFactors) {

    /**
     * One transformer block. Biases are null unless the architecture has them ({@link Architecture#qkvBias}), and so
     * are the per-head norms ({@link Architecture#qkNorm}).
     */
    record Layer(float[] attnNorm, WeightMatrix wq, WeightMatrix wk, WeightMatrix wv, float[] qBias, float[] kBias,
                 float[] vBias, float[] qNorm, float[] kNorm, WeightMatrix wo, float[] ffnNorm, WeightMatrix gate,
                 WeightMatrix up, WeightMatrix down) {}

    static ModelWeights load(GgufFile file, ModelConfig c) {
        Loader in = new Loader(file);
        WeightMatrix embedding = in.matrix("token_embd.weight", c.vocabSize(), c.dim());
        Layer[] layers = new Layer[c.layers()];
        Architecture arch = c.architecture();
        for (int l = 0; l < c.layers(); l++) {
            String b = "blk." + l + ".";
            layers[l] = new Layer(
                    in.vector(b + "attn_norm.weight", c.dim()),
                    in.matrix(b + "attn_q.weight", c.queryDim(), c.dim()),
                    in.matrix(b + "attn_k.weight", c.kvDim(), c.dim()),
                    in.matrix(b + "attn_v.weight", c.valueRowDim(), c.dim()),
                    arch.qkvBias ? in.vector(b + "attn_q.bias", c.queryDim()) : null,
                    arch.qkvBias ? in.vector(b + "attn_k.bias", c.kvDim()) : null,
                    arch.qkvBias ? in.vector(b + "attn_v.bias", c.valueRowDim()) : null,
                    arch.qkNorm ? in.vector(b + "attn_q_norm.weight", c.headDim()) : null,
                    arch.qkNorm ? in.vector(b + "attn_k_norm.weight", c.headDim()) : null,
                    in.matrix(b + "attn_output.weight", c.dim(), c.attentionOutDim()),
                    in.vector(b + "ffn_norm.weight", c.dim()),
                    in.matrix(b + "ffn_gate.weight", c.ffnDim(), c.dim()),
                    in.matrix(b + "ffn_up.weight", c.ffnDim(), c.dim()),
                    in.matrix(b + "ffn_down.weight", c.dim(), c.ffnDim()));
        }
        float[] outputNorm = in.vector("output_norm.weight", c.dim());
        WeightMatrix output = file.tensors().containsKey("output.weight")
                ? in.matrix("output.weight", c.vocabSize(), c.dim()) : embedding;
        float[] ropeFactors = file.tensors().containsKey("rope_freqs.weight")
                ? in.vector("rope_freqs.weight", c.ropeDims() / 2) : null;
        return new ModelWeights(embedding, layers, outputNorm, output, ropeFactors);
    }

    /** Looks tensors up by name and checks shape and type, failing with the file, tensor and expectation named. */
    private record Loader(GgufFile file) {

        WeightMatrix matrix(String name, int rows, int cols) {
            TensorInfo t = find(name, new long[] {cols, rows});
            try {
                return WeightMatrices.of(t.type(), file.data(t), rows, cols);
            } catch (IllegalArgumentException | UnsupportedOperationException e) {
                throw fail(name, e.getMessage());
            }
        }

        float[] vector(String name, int n) {
            TensorInfo t = find(name, new long[] {n});
            float[] out = new float[n];
            try {
                WeightMatrices.of(t.type(), file.data(t), 1, n).dequantizeRow(0, out, 0);
            } catch (IllegalArgumentException | UnsupportedOperationException e) {
                throw fail(name, e.getMessage());
            }
            return out;
        }

        private TensorInfo find(String name, long[] dims) {
            TensorInfo t = file.tensors().get(name);
            if (t == null) {
                throw new GgufException(file.path() + ": tensor '" + name + "' is missing (expected shape "
                        + Arrays.toString(dims) + ")");
            }
            if (!Arrays.equals(withoutTrailingOnes(t.dims()), dims)) {
                throw fail(name, "has shape " + Arrays.toString(t.dims()) + " but the metadata implies "
                        + Arrays.toString(dims) + " (ggml order: columns first)");
            }
            if (!t.type().supported) {
                throw fail(name, "has type " + t.type() + ", which Quill cannot compute with (supported: "
                        + Arrays.stream(GgmlType.values()).filter(g -> g.supported).map(Enum::name)
                        .collect(Collectors.joining(", ")) + ")");
            }
            return t;
        }

        private GgufException fail(String name, String what) {
            return new GgufException(file.path() + ": tensor '" + name + "' " + what);
        }

        private static long[] withoutTrailingOnes(long[] dims) {
            int n = dims.length;
            while (n > 1 && dims[n - 1] == 1) n--;
            return Arrays.copyOf(dims, n);
        }
    }
}
