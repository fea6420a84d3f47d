package dev.quill.engine.tensor;

import jdk.incubator.vector.FloatVector;

import java.lang.foreign.MemorySegment;
import java.util.Objects;

/** Creates {@link WeightMatrix} views over weights in ggml layout, used in place (never copied). */
public final class WeightMatrices {

    private WeightMatrices() {
    }

    /**
     * A {@code rows × cols} matrix of {@code type} whose row-major ggml blocks start at byte 0 of {@code data}
     * (little-endian; the segment may be larger, e.g. a slice of a mapped file over 2 GiB).
     *
     * @throws UnsupportedOperationException if Quill cannot compute with {@code type}, or the CPU's vectors are
     *                                       neither 256 nor 512 bits wide
     * @throws IllegalArgumentException if the shape is invalid, {@code cols} is not a multiple of the block size, or
     *                                  {@code data} is too small
     */
    public static WeightMatrix of(GgmlType type, MemorySegment data, int rows, int cols) {
        int lanes = FloatVector.SPECIES_PREFERRED.length();
        if (lanes != 8 && lanes != 16) {
            // The kernels cover a 32-weight block in 32 / L whole steps, written out for 8 and 16 lanes.
            throw new UnsupportedOperationException("Quill's kernels need 256- or 512-bit vectors; this CPU's preferred"
                    + " float vector has " + lanes + " lanes");
        }
        Quantization.checkSupported(type);
        Objects.requireNonNull(data, "data");
        if (rows <= 0 || cols <= 0) {
            throw new IllegalArgumentException(type + " matrix: shape " + rows + "×" + cols + " must be positive");
        }
        if (cols % type.blockSize != 0) {
            throw new IllegalArgumentException(type + " matrix: " + cols + " columns is not a multiple of the "
                    + type + " block size " + type.blockSize);
        }
        long needed = rows * type.bytesFor(cols);
        if (data.byteSize() < needed) {
            throw new IllegalArgumentException(type + " matrix " + rows + "×" + cols + " needs " + needed
                    + " bytes but the segment holds " + data.byteSize());
        }
        return switch (type) {
            case F32 -> new F32Matrix(data, rows, cols);
            case F16, BF16 -> new HalfMatrix(type, data, rows, cols);
            case Q8_0 -> new Q8_0Matrix(data, rows, cols);
            case Q4_0 -> new Q4_0Matrix(data, rows, cols);
            case Q4_K -> new Q4KMatrix(data, rows, cols);
            case Q5_K -> new Q5KMatrix(data, rows, cols);
            case Q6_K -> new Q6KMatrix(data, rows, cols);
            default -> throw new AssertionError(type);
        };
    }
}
