package dev.quill.engine.tensor;

import java.lang.foreign.MemorySegment;

import static dev.quill.engine.tensor.Quantization.FLOAT_LE;

/** F32 weights: 4 little-endian bytes per element; "dequantizing" is a copy, the panel kernels do the rest. */
final class F32Matrix extends TiledMatrix {

    F32Matrix(MemorySegment data, int rows, int cols) {
        super(GgmlType.F32, data, rows, cols);
    }

    @Override
    void dequantizeRows(int r, int count, float[] dst, int off, Scratch s) {
        MemorySegment.copy(data, FLOAT_LE, (long) r * rowBytes, dst, off, count * cols);
    }
}
