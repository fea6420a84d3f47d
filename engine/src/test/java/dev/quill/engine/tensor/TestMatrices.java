package dev.quill.engine.tensor;

import java.lang.foreign.MemorySegment;
import java.util.Random;

/** Random quantized matrices and the scalar definitions kernels are checked against. */
final class TestMatrices {

    static final GgmlType[] SUPPORTED = {
            GgmlType.F32, GgmlType.F16, GgmlType.BF16, GgmlType.Q8_0, GgmlType.Q4_0, GgmlType.Q4_K, GgmlType.Q5_K,
            GgmlType.Q6_K};

    private TestMatrices() {
    }

    static float[] gaussian(Random random, int count, float scale) {
        float[] v = new float[count];
        for (int i = 0; i < count; i++) v[i] = (float) random.nextGaussian() * scale;
        return v;
    }

    /** A random rows × cols matrix of {@code type}, stored off-heap like a mapped file. */
    static WeightMatrix random(GgmlType type, int rows, int cols, Random random) {
        byte[] bytes = Quantization.quantize(type, gaussian(random, rows * cols, 0.5f));
        MemorySegment segment = java.lang.foreign.Arena.ofAuto().allocate(bytes.length + 64, 64);
        MemorySegment.copy(MemorySegment.ofArray(bytes), 0, segment, 0, bytes.length);
        return WeightMatrices.of(type, segment, rows, cols);
    }

    /** Columns usable for {@code type}: multiples of its block size. */
    static int[] colsFor(GgmlType type) {
        return switch (type.blockSize) {
            case 1 -> new int[]{7, 33, 64, 100};
            case 32 -> new int[]{32, 96, 288};
            default -> new int[]{256, 512};
        };
    }

    /** Reference weights of row r, via the scalar dequantizer. */
    static float[] referenceRow(WeightMatrix w, MemorySegment data, int r) {
        float[] row = new float[w.cols()];
        Quantization.dequantize(w.type(), data, (long) r * w.cols(), row, 0, w.cols());
        return row;
    }

    /** The canonical order of {@link TiledMatrix}, emulated one lane at a time with scalar fma. */
    static float canonicalDot(float[] w, float[] x, int xo, int lanes) {
        int cols = w.length, colsV = cols - cols % lanes;
        float[] acc = new float[lanes];
        for (int c = 0; c < colsV; c += lanes) {
            for (int i = 0; i < lanes; i++) acc[i] = Math.fma(w[c + i], x[xo + c + i], acc[i]);
        }
        for (int h = lanes / 2; h > 0; h /= 2) {
            for (int i = 0; i < h; i++) acc[i] += acc[i + h];
        }
        float s = acc[0];
        for (int c = colsV; c < cols; c++) s = Math.fma(w[c], x[xo + c], s);
        return s;
    }
}
