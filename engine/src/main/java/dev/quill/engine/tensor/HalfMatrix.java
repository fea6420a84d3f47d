package dev.quill.engine.tensor;

import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.MemorySegment;

import static dev.quill.engine.tensor.Quantization.SHORT_LE;

/**
 * F16 and BF16 weights: 2 little-endian bytes per element. Rows are widened to f32 exactly (for F16 a plain loop
 * that C2 vectorises into vcvtph2ps) and fed to the panel kernels.
 */
final class HalfMatrix extends TiledMatrix {

    private static final VectorSpecies<Integer> I = VectorSpecies.of(int.class, VectorShape.forBitSize(L * Integer.SIZE));

    private final boolean bf16;

    HalfMatrix(GgmlType type, MemorySegment data, int rows, int cols) {
        super(type, data, rows, cols);
        if (type != GgmlType.F16 && type != GgmlType.BF16) throw new IllegalArgumentException(type.toString());
        this.bf16 = type == GgmlType.BF16;
    }

    @Override
    void dequantizeRows(int r, int count, float[] dst, int off, Scratch s) {
        int size = count * cols;
        short[] h = s.shorts(size);
        MemorySegment.copy(data, SHORT_LE, (long) r * rowBytes, h, 0, size);
        if (bf16) widenBf16(h, dst, off, size);
        else widenF16(h, dst, off, size);
    }

    private static void widenF16(short[] h, float[] dst, int off, int size) {
        for (int i = 0; i < size; i++) dst[off + i] = Float.float16ToFloat(h[i]);
    }

    /** bf16 is the top half of an f32: widen (C2 does not vectorise the scalar loop) and shift. */
    private static void widenBf16(short[] h, float[] dst, int off, int size) {
        int i = 0;
        for (; i <= size - L; i += L) {
            ((IntVector) ShortVector.fromArray(S, h, i).convertShape(VectorOperators.S2I, I, 0))
                    .lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().intoArray(dst, off + i);
        }
        for (; i < size; i++) dst[off + i] = Float.intBitsToFloat(h[i] << 16);
    }
}
