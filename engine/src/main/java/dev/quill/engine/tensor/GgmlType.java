package dev.quill.engine.tensor;

/**
 * Tensor element types as numbered by ggml/GGUF. {@code blockSize} elements are stored in {@code blockBytes}
 * bytes. Only the types Quill can compute with are {@link #supported}.
 */
public enum GgmlType {
    F32(0, 1, 4, true),
    F16(1, 1, 2, true),
    Q4_0(2, 32, 18, true),
    Q4_1(3, 32, 20, false),
    Q5_0(6, 32, 22, false),
    Q5_1(7, 32, 24, false),
    Q8_0(8, 32, 34, true),
    Q8_1(9, 32, 36, false),
    Q2_K(10, 256, 84, false),
    Q3_K(11, 256, 110, false),
    Q4_K(12, 256, 144, true),
    Q5_K(13, 256, 176, true),
    Q6_K(14, 256, 210, true),
    Q8_K(15, 256, 292, false),
    BF16(30, 1, 2, true);

    public final int id;
    public final int blockSize;
    public final int blockBytes;
    public final boolean supported;

    GgmlType(int id, int blockSize, int blockBytes, boolean supported) {
        this.id = id;
        this.blockSize = blockSize;
        this.blockBytes = blockBytes;
        this.supported = supported;
    }

    /** Bytes taken by {@code elements} values; {@code elements} must be a multiple of the block size. */
    public long bytesFor(long elements) {
        return elements / blockSize * blockBytes;
    }

    public static GgmlType byId(int id) {
        for (GgmlType t : values()) {
            if (t.id == id) return t;
        }
        return null;
    }
}
