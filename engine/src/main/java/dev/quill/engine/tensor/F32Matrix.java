package dev.quill.engine.tensor;

import jdk.incubator.vector.FloatVector;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;

import static dev.quill.engine.tensor.Quantization.FLOAT_LE;

/** F32 weights: 4 little-endian bytes per element. */
final class F32Matrix extends TiledMatrix {

    F32Matrix(MemorySegment data, int rows, int cols) {
        super(GgmlType.F32, data, rows, cols);
    }

    @Override
    void dequantizeRows(int r, int count, float[] dst, int off) {
        MemorySegment.copy(data, FLOAT_LE, r * rowBytes, dst, off, count * cols);
    }

    @Override
    void dot4(int r, float[] x, int xo, float[] out, int oo, Scratch s) {
        MemorySegment seg = data;
        long o0 = r * rowBytes, o1 = o0 + rowBytes, o2 = o1 + rowBytes, o3 = o2 + rowBytes;
        FloatVector a0 = FloatVector.zero(F), a1 = a0, a2 = a0, a3 = a0;
        for (int c = 0; c < colsV; c += L) {
            FloatVector xv = FloatVector.fromArray(F, x, xo + c);
            long b = 4L * c;
            a0 = load(seg, o0 + b).fma(xv, a0);
            a1 = load(seg, o1 + b).fma(xv, a1);
            a2 = load(seg, o2 + b).fma(xv, a2);
            a3 = load(seg, o3 + b).fma(xv, a3);
        }
        out[oo] = finish(a0, seg, o0, x, xo);
        out[oo + 1] = finish(a1, seg, o1, x, xo);
        out[oo + 2] = finish(a2, seg, o2, x, xo);
        out[oo + 3] = finish(a3, seg, o3, x, xo);
    }

    private static FloatVector load(MemorySegment seg, long offset) {
        return FloatVector.fromMemorySegment(F, seg, offset, ByteOrder.LITTLE_ENDIAN);
    }

    private float finish(FloatVector acc, MemorySegment seg, long rowOffset, float[] x, int xo) {
        float s = foldHalves(acc);
        for (int c = colsV; c < cols; c++) {
            s = Math.fma(seg.get(FLOAT_LE, rowOffset + 4L * c), x[xo + c], s);
        }
        return s;
    }
}
