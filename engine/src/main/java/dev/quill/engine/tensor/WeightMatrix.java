package dev.quill.engine.tensor;

/**
 * A 2-D weight tensor of {@code rows × cols} elements, stored row-major in its GGUF type (in place, in the mapped
 * file: weights are never copied to the heap). ggml's {@code ne0} is {@code cols}, {@code ne1} is {@code rows}.
 *
 * <p><b>Batch invariance</b>: every output element {@code out[t][r]} is computed with exactly the same sequence of
 * floating-point operations whatever {@code n} is and whatever row range the call covers, so a token's result never
 * depends on which other tokens share the batch or how rows were split across threads.
 */
public interface WeightMatrix {

    GgmlType type();

    int rows();

    int cols();

    /**
     * Matrix × activations for a batch: for every token {@code t < n} and row {@code r0 <= r < r1},
     * {@code out[t * outStride + r] = Σ_c W[r][c] · x[t * cols + c]}. Reuses each weight block across the n tokens.
     */
    void matmul(float[] x, int n, float[] out, int outStride, int r0, int r1);

    /** Writes row {@code r} as floats into {@code dst[offset .. offset + cols)} (embedding lookup, tests). */
    void dequantizeRow(int r, float[] dst, int offset);
}
