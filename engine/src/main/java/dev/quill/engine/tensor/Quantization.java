package dev.quill.engine.tensor;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Objects;

/**
 * Scalar reference (de)quantization for every supported {@link GgmlType}, in ggml's block layouts (little-endian).
 *
 * <p>The dequantizers are deliberately plain loops, one element at a time, written straight from the block layout:
 * they are the ground truth the vectorised kernels are tested against. The quantizers round to nearest (they do not
 * reproduce llama.cpp's optimised K-quant search) and always produce valid blocks; they exist to write test models.
 *
 * <p>Block layouts (offsets in bytes within a block):
 * <ul>
 *   <li>Q8_0 (32 elements, 34 bytes): f16 d @0, int8 q[32] @2; x = q·d.</li>
 *   <li>Q4_0 (32, 18): f16 d @0, qs[16] @2; element j &lt; 16 is the low nibble of qs[j], element 16+j the high
 *       nibble; x = (q − 8)·d.</li>
 *   <li>Q4_K (256, 144): f16 d @0, f16 dmin @2, scales[12] @4 (eight 6-bit scale/min pairs), qs[128] @16. Chunk c of
 *       64 elements uses qs[32c..32c+32): low nibbles are sub-block 2c, high nibbles sub-block 2c+1;
 *       x = d·sc·q − dmin·m.</li>
 *   <li>Q5_K (256, 176): like Q4_K with qh[32] @16 and qs[128] @48; bit 2c of qh[l] is the fifth bit of element
 *       64c+l, bit 2c+1 that of element 64c+32+l.</li>
 *   <li>Q6_K (256, 210): ql[128] @0, qh[64] @128, int8 scales[16] @192, f16 d @208. Half h of 128 elements uses
 *       ql[64h..), qh[32h..); for l &lt; 32 the elements l, l+32, l+64, l+96 are ql[l] low, ql[l+32] low, ql[l] high,
 *       ql[l+32] high nibble, with bits 0-1, 2-3, 4-5, 6-7 of qh[l] on top; x = d·scales[e/16]·(q − 32).</li>
 * </ul>
 */
public final class Quantization {

    static final ValueLayout.OfShort SHORT_LE = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfFloat FLOAT_LE = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private Quantization() {
    }

    // ---------------------------------------------------------------------------------------------- dequantize

    /**
     * Dequantizes {@code count} elements starting at element {@code elemOffset} of {@code data} (ggml layout of
     * {@code type}) into {@code dst[off .. off + count)}. Both {@code elemOffset} and {@code count} must be multiples
     * of the type's block size.
     */
    public static void dequantize(GgmlType type, MemorySegment data, long elemOffset, float[] dst, int off,
                                  int count) {
        checkSupported(type);
        Objects.requireNonNull(data, "data");
        Objects.requireNonNull(dst, "dst");
        if (elemOffset < 0 || count < 0 || elemOffset % type.blockSize != 0 || count % type.blockSize != 0) {
            throw new IllegalArgumentException("dequantize " + type + ": element offset " + elemOffset
                    + " and count " + count + " must be non-negative multiples of the block size " + type.blockSize);
        }
        if (off < 0 || off > dst.length - count) {
            throw new IllegalArgumentException("dequantize " + type + ": destination range [" + off + ", "
                    + ((long) off + count) + ") is outside an array of length " + dst.length);
        }
        long byteOffset = type.bytesFor(elemOffset);
        long byteCount = type.bytesFor(count);
        if (byteOffset + byteCount > data.byteSize()) {
            throw new IllegalArgumentException("dequantize " + type + ": elements [" + elemOffset + ", "
                    + (elemOffset + count) + ") need bytes up to " + (byteOffset + byteCount)
                    + " but the segment holds " + data.byteSize());
        }
        for (int e = 0; e < count; e += type.blockSize) {
            long b = byteOffset + type.bytesFor(e);
            int o = off + e;
            switch (type) {
                case F32 -> dst[o] = data.get(FLOAT_LE, b);
                case F16 -> dst[o] = Float.float16ToFloat(data.get(SHORT_LE, b));
                case BF16 -> dst[o] = bf16ToFloat(data.get(SHORT_LE, b));
                case Q8_0 -> dequantizeQ8_0(data, b, dst, o);
                case Q4_0 -> dequantizeQ4_0(data, b, dst, o);
                case Q4_K -> dequantizeQ4_K(data, b, dst, o);
                case Q5_K -> dequantizeQ5_K(data, b, dst, o);
                case Q6_K -> dequantizeQ6_K(data, b, dst, o);
                default -> throw new AssertionError(type);
            }
        }
    }

    private static void dequantizeQ8_0(MemorySegment s, long b, float[] y, int o) {
        float d = f16(s, b);
        for (int j = 0; j < 32; j++) {
            y[o + j] = s.get(ValueLayout.JAVA_BYTE, b + 2 + j) * d;
        }
    }

    private static void dequantizeQ4_0(MemorySegment s, long b, float[] y, int o) {
        float d = f16(s, b);
        for (int j = 0; j < 16; j++) {
            int q = u8(s, b + 2 + j);
            y[o + j] = ((q & 0xF) - 8) * d;
            y[o + j + 16] = ((q >> 4) - 8) * d;
        }
    }

    private static void dequantizeQ4_K(MemorySegment s, long b, float[] y, int o) {
        float d = f16(s, b);
        float dmin = f16(s, b + 2);
        for (int e = 0; e < 256; e++) {
            int chunk = e / 64, l = e % 32;
            boolean high = e % 64 >= 32;
            int qs = u8(s, b + 16 + 32 * chunk + l);
            int q = high ? qs >> 4 : qs & 0xF;
            int sub = e / 32;
            y[o + e] = d * kScale(s, b + 4, sub) * q - dmin * kMin(s, b + 4, sub);
        }
    }

    private static void dequantizeQ5_K(MemorySegment s, long b, float[] y, int o) {
        float d = f16(s, b);
        float dmin = f16(s, b + 2);
        for (int e = 0; e < 256; e++) {
            int chunk = e / 64, l = e % 32;
            boolean high = e % 64 >= 32;
            int qs = u8(s, b + 48 + 32 * chunk + l);
            int qh = u8(s, b + 16 + l);
            int bit = 2 * chunk + (high ? 1 : 0);
            int q = (high ? qs >> 4 : qs & 0xF) + ((qh >> bit) & 1) * 16;
            int sub = e / 32;
            y[o + e] = d * kScale(s, b + 4, sub) * q - dmin * kMin(s, b + 4, sub);
        }
    }

    private static void dequantizeQ6_K(MemorySegment s, long b, float[] y, int o) {
        float d = f16(s, b + 208);
        for (int e = 0; e < 256; e++) {
            int half = e / 128, quarter = e % 128 / 32, l = e % 32;
            int ql = u8(s, b + 64 * half + l + (quarter % 2 == 1 ? 32 : 0));
            int low = quarter < 2 ? ql & 0xF : ql >> 4;
            int qh = u8(s, b + 128 + 32 * half + l);
            int q = (low | ((qh >> (2 * quarter)) & 3) << 4) - 32;
            int scale = s.get(ValueLayout.JAVA_BYTE, b + 192 + e / 16);
            y[o + e] = d * scale * q;
        }
    }

    /** 6-bit scale of sub-block {@code j} (0..7) from the 12 packed K-quant scale bytes at {@code p}. */
    static int kScale(MemorySegment s, long p, int j) {
        return j < 4 ? u8(s, p + j) & 63 : (u8(s, p + j + 4) & 0xF) | (u8(s, p + j - 4) >> 6) << 4;
    }

    /** 6-bit min of sub-block {@code j} (0..7) from the 12 packed K-quant scale bytes at {@code p}. */
    static int kMin(MemorySegment s, long p, int j) {
        return j < 4 ? u8(s, p + j + 4) & 63 : (u8(s, p + j + 4) >> 4) | (u8(s, p + j) >> 6) << 4;
    }

    static float f16(MemorySegment s, long b) {
        return Float.float16ToFloat(s.get(SHORT_LE, b));
    }

    private static int u8(MemorySegment s, long b) {
        return s.get(ValueLayout.JAVA_BYTE, b) & 0xFF;
    }

    public static float bf16ToFloat(short bits) {
        return Float.intBitsToFloat(bits << 16);
    }

    /** Round-to-nearest-even conversion to bfloat16 (NaN stays NaN). */
    public static short floatToBf16(float f) {
        int bits = Float.floatToRawIntBits(f);
        if (Float.isNaN(f)) return (short) ((bits >>> 16) | 0x40);
        return (short) ((bits + 0x7FFF + ((bits >>> 16) & 1)) >>> 16);
    }

    // ------------------------------------------------------------------------------------------------ quantize

    /** Quantizes {@code src} (length a multiple of the block size) into ggml blocks of {@code type}. */
    public static byte[] quantize(GgmlType type, float[] src) {
        checkSupported(type);
        Objects.requireNonNull(src, "src");
        if (src.length % type.blockSize != 0) {
            throw new IllegalArgumentException("quantize " + type + ": " + src.length
                    + " elements is not a multiple of the block size " + type.blockSize);
        }
        byte[] out = new byte[Math.toIntExact(type.bytesFor(src.length))];
        MemorySegment dst = MemorySegment.ofArray(out);
        for (int e = 0, blk = 0; e < src.length; e += type.blockSize, blk++) {
            long b = (long) blk * type.blockBytes;
            switch (type) {
                case F32 -> dst.set(FLOAT_LE, b, src[e]);
                case F16 -> dst.set(SHORT_LE, b, Float.floatToFloat16(src[e]));
                case BF16 -> dst.set(SHORT_LE, b, floatToBf16(src[e]));
                case Q8_0 -> quantizeQ8_0(src, e, dst, b);
                case Q4_0 -> quantizeQ4_0(src, e, dst, b);
                case Q4_K -> quantizeKType(src, e, dst, b, 15);
                case Q5_K -> quantizeKType(src, e, dst, b, 31);
                case Q6_K -> quantizeQ6_K(src, e, dst, b);
                default -> throw new AssertionError(type);
            }
        }
        return out;
    }

    private static void quantizeQ8_0(float[] x, int e, MemorySegment s, long b) {
        float amax = 0;
        for (int j = 0; j < 32; j++) amax = Math.max(amax, Math.abs(x[e + j]));
        short dh = Float.floatToFloat16(amax / 127);
        float d = Float.float16ToFloat(dh);
        s.set(SHORT_LE, b, dh);
        for (int j = 0; j < 32; j++) {
            int q = d == 0 ? 0 : clamp(Math.round(x[e + j] / d), -127, 127);
            s.set(ValueLayout.JAVA_BYTE, b + 2 + j, (byte) q);
        }
    }

    private static void quantizeQ4_0(float[] x, int e, MemorySegment s, long b) {
        // The value of largest magnitude maps to q = 0 (i.e. −8·d), which gives the full 16-level range.
        float max = 0;
        for (int j = 0; j < 32; j++) if (Math.abs(x[e + j]) > Math.abs(max)) max = x[e + j];
        short dh = Float.floatToFloat16(max / -8);
        float d = Float.float16ToFloat(dh);
        s.set(SHORT_LE, b, dh);
        for (int j = 0; j < 16; j++) {
            int lo = d == 0 ? 8 : clamp(Math.round(x[e + j] / d) + 8, 0, 15);
            int hi = d == 0 ? 8 : clamp(Math.round(x[e + j + 16] / d) + 8, 0, 15);
            s.set(ValueLayout.JAVA_BYTE, b + 2 + j, (byte) (lo | hi << 4));
        }
    }

    /** Q4_K ({@code maxQ} = 15) and Q5_K ({@code maxQ} = 31): x ≈ d·sc·q − dmin·m per 32-element sub-block. */
    private static void quantizeKType(float[] x, int e, MemorySegment s, long b, int maxQ) {
        float[] scale = new float[8], min = new float[8];
        float maxScale = 0, maxMin = 0;
        for (int j = 0; j < 8; j++) {
            float lo = 0, hi = 0;
            for (int l = 0; l < 32; l++) {
                lo = Math.min(lo, x[e + 32 * j + l]);
                hi = Math.max(hi, x[e + 32 * j + l]);
            }
            scale[j] = (hi - lo) / maxQ;
            min[j] = -lo;
            maxScale = Math.max(maxScale, scale[j]);
            maxMin = Math.max(maxMin, min[j]);
        }
        short dh = Float.floatToFloat16(maxScale / 63), dminh = Float.floatToFloat16(maxMin / 63);
        float d = Float.float16ToFloat(dh), dmin = Float.float16ToFloat(dminh);
        s.set(SHORT_LE, b, dh);
        s.set(SHORT_LE, b + 2, dminh);
        int[] sc = new int[8], m = new int[8];
        byte[] packed = new byte[12];
        for (int j = 0; j < 8; j++) {
            // Round the scale up so that the 2^bits levels still span the sub-block's range.
            sc[j] = d == 0 ? 0 : clamp((int) Math.ceil(scale[j] / d), 0, 63);
            m[j] = dmin == 0 ? 0 : clamp(Math.round(min[j] / dmin), 0, 63);
            if (j < 4) {
                packed[j] |= (byte) sc[j];
                packed[j + 4] |= (byte) m[j];
            } else {
                packed[j + 4] = (byte) ((sc[j] & 0xF) | (m[j] & 0xF) << 4);
                packed[j - 4] |= (byte) ((sc[j] >> 4) << 6);
                packed[j] |= (byte) ((m[j] >> 4) << 6);
            }
        }
        MemorySegment.copy(packed, 0, s, ValueLayout.JAVA_BYTE, b + 4, 12);
        long qsBase = maxQ == 15 ? b + 16 : b + 48;
        for (int i = 0; i < 256; i++) {
            int j = i / 32;
            float step = d * sc[j];
            int q = step == 0 ? 0 : clamp(Math.round((x[e + i] + dmin * m[j]) / step), 0, maxQ);
            int chunk = i / 64, l = i % 32;
            boolean high = i % 64 >= 32;
            long p = qsBase + 32 * chunk + l;
            byte old = s.get(ValueLayout.JAVA_BYTE, p);
            s.set(ValueLayout.JAVA_BYTE, p, (byte) (high ? old | (q & 0xF) << 4 : old | (q & 0xF)));
            if (q > 15) {
                long h = b + 16 + l;
                s.set(ValueLayout.JAVA_BYTE, h, (byte) (s.get(ValueLayout.JAVA_BYTE, h) | 1 << (2 * chunk + (high ? 1 : 0))));
            }
        }
    }

    private static void quantizeQ6_K(float[] x, int e, MemorySegment s, long b) {
        float[] scale = new float[16];
        float maxScale = 0;
        for (int j = 0; j < 16; j++) {
            float amax = 0;
            for (int l = 0; l < 16; l++) amax = Math.max(amax, Math.abs(x[e + 16 * j + l]));
            scale[j] = amax / 31;
            maxScale = Math.max(maxScale, scale[j]);
        }
        short dh = Float.floatToFloat16(maxScale / 127);
        float d = Float.float16ToFloat(dh);
        s.set(SHORT_LE, b + 208, dh);
        int[] sc = new int[16];
        for (int j = 0; j < 16; j++) {
            sc[j] = d == 0 ? 0 : clamp((int) Math.ceil(scale[j] / d), 0, 127);
            s.set(ValueLayout.JAVA_BYTE, b + 192 + j, (byte) sc[j]);
        }
        for (int i = 0; i < 256; i++) {
            float step = d * sc[i / 16];
            int q = (step == 0 ? 0 : clamp(Math.round(x[e + i] / step), -32, 31)) + 32;
            int half = i / 128, quarter = i % 128 / 32, l = i % 32;
            long pl = b + 64 * half + l + (quarter % 2 == 1 ? 32 : 0);
            byte low = s.get(ValueLayout.JAVA_BYTE, pl);
            s.set(ValueLayout.JAVA_BYTE, pl, (byte) (quarter < 2 ? low | (q & 0xF) : low | (q & 0xF) << 4));
            long ph = b + 128 + 32 * half + l;
            s.set(ValueLayout.JAVA_BYTE, ph, (byte) (s.get(ValueLayout.JAVA_BYTE, ph) | (q >> 4) << (2 * quarter)));
        }
    }

    private static int clamp(int v, int lo, int hi) {
        return Math.max(lo, Math.min(hi, v));
    }

    static void checkSupported(GgmlType type) {
        Objects.requireNonNull(type, "type");
        if (!type.supported) {
            throw new UnsupportedOperationException("GGML type " + type + " (id " + type.id
                    + ") is not supported; supported types: F32, F16, BF16, Q8_0, Q4_0, Q4_K, Q5_K, Q6_K");
        }
    }
}
