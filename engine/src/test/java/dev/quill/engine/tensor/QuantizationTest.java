package dev.quill.engine.tensor;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.lang.foreign.MemorySegment;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Each dequantizer against blocks built by hand from the documented ggml layout (known quants in, known floats out),
 * quantize → dequantize error bounds, and argument checking.
 */
class QuantizationTest {

    // f16 bit patterns of a few exact scales
    private static final short HALF = 0x3800, ONE = 0x3C00, TWO = 0x4000, QUARTER = 0x3400;

    @Test
    void q8_0IsScaleTimesSignedByte() {
        byte[] block = new byte[34];
        putShort(block, 0, HALF);
        for (int j = 0; j < 32; j++) block[2 + j] = (byte) (j * 8 - 128);
        float[] out = dequantize(GgmlType.Q8_0, block, 32);
        for (int j = 0; j < 32; j++) assertThat(out[j]).isEqualTo((j * 8 - 128) * 0.5f);
    }

    @Test
    void q4_0LowNibblesAreTheFirstHalfAndHighNibblesTheSecond() {
        byte[] block = new byte[18];
        putShort(block, 0, TWO);
        for (int j = 0; j < 16; j++) block[2 + j] = (byte) (j | (15 - j) << 4);
        float[] out = dequantize(GgmlType.Q4_0, block, 32);
        for (int j = 0; j < 16; j++) {
            assertThat(out[j]).as("element %d", j).isEqualTo((j - 8) * 2f);
            assertThat(out[16 + j]).as("element %d", 16 + j).isEqualTo((15 - j - 8) * 2f);
        }
    }

    @Test
    void q4_0LiteralBytes() {
        // d = 1.0; byte 0x9F: element 0 = 0xF − 8 = 7, element 16 = 0x9 − 8 = 1
        byte[] block = new byte[18];
        block[0] = 0x00;
        block[1] = 0x3C;
        block[2] = (byte) 0x9F;
        for (int j = 1; j < 16; j++) block[2 + j] = (byte) 0x88;
        float[] out = dequantize(GgmlType.Q4_0, block, 32);
        assertThat(out[0]).isEqualTo(7f);
        assertThat(out[16]).isEqualTo(1f);
        assertThat(out[1]).isEqualTo(0f);
    }

    /** Sub-block scales and mins chosen so that every 6-bit value uses its top two bits where packing moves them. */
    private static final int[] K_SCALES = {1, 2, 3, 60, 17, 33, 50, 63};
    private static final int[] K_MINS = {0, 5, 48, 63, 16, 31, 47, 62};

    @Test
    void q4_KAppliesSixBitScalesAndMinsPerSubBlock() {
        byte[] block = new byte[144];
        putShort(block, 0, ONE);
        putShort(block, 2, HALF);
        packKScales(block, 4);
        int[] q = new int[256];
        for (int e = 0; e < 256; e++) q[e] = (e * 7 + e / 32) % 16;
        for (int chunk = 0; chunk < 4; chunk++) {
            for (int l = 0; l < 32; l++) {
                block[16 + 32 * chunk + l] = (byte) (q[64 * chunk + l] | q[64 * chunk + 32 + l] << 4);
            }
        }
        float[] out = dequantize(GgmlType.Q4_K, block, 256);
        for (int e = 0; e < 256; e++) {
            int j = e / 32;
            assertThat(out[e]).as("element %d", e).isEqualTo(1f * K_SCALES[j] * q[e] - 0.5f * K_MINS[j]);
        }
    }

    @Test
    void q5_KAddsTheFifthBitFromQh() {
        byte[] block = new byte[176];
        putShort(block, 0, QUARTER);
        putShort(block, 2, ONE);
        packKScales(block, 4);
        int[] q = new int[256];
        for (int e = 0; e < 256; e++) q[e] = (e * 13 + e / 64) % 32;
        for (int chunk = 0; chunk < 4; chunk++) {
            for (int l = 0; l < 32; l++) {
                int lo = q[64 * chunk + l], hi = q[64 * chunk + 32 + l];
                block[48 + 32 * chunk + l] = (byte) ((lo & 15) | (hi & 15) << 4);
                block[16 + l] |= (byte) ((lo >> 4) << (2 * chunk) | (hi >> 4) << (2 * chunk + 1));
            }
        }
        float[] out = dequantize(GgmlType.Q5_K, block, 256);
        for (int e = 0; e < 256; e++) {
            int j = e / 32;
            assertThat(out[e]).as("element %d", e).isEqualTo(0.25f * K_SCALES[j] * q[e] - 1f * K_MINS[j]);
        }
    }

    @Test
    void q6_KCombinesLowNibblesHighBitsAndSignedScales() {
        byte[] block = new byte[210];
        int[] q = new int[256];
        int[] scales = new int[16];
        for (int k = 0; k < 16; k++) scales[k] = k * 17 - 128;
        for (int e = 0; e < 256; e++) q[e] = (e * 11 + e / 16) % 64;
        for (int h = 0; h < 2; h++) {
            for (int l = 0; l < 32; l++) {
                int q0 = q[128 * h + l], q1 = q[128 * h + 32 + l], q2 = q[128 * h + 64 + l], q3 = q[128 * h + 96 + l];
                block[64 * h + l] = (byte) ((q0 & 15) | (q2 & 15) << 4);
                block[64 * h + 32 + l] = (byte) ((q1 & 15) | (q3 & 15) << 4);
                block[128 + 32 * h + l] = (byte) (q0 >> 4 | (q1 >> 4) << 2 | (q2 >> 4) << 4 | (q3 >> 4) << 6);
            }
        }
        for (int k = 0; k < 16; k++) block[192 + k] = (byte) scales[k];
        putShort(block, 208, QUARTER);
        float[] out = dequantize(GgmlType.Q6_K, block, 256);
        for (int e = 0; e < 256; e++) {
            assertThat(out[e]).as("element %d", e).isEqualTo(0.25f * scales[e / 16] * (q[e] - 32));
        }
    }

    @Test
    void elementTypesDecodeLittleEndianValues() {
        byte[] f32 = new byte[8];
        MemorySegment.ofArray(f32).set(Quantization.FLOAT_LE, 0, 1.5f);
        MemorySegment.ofArray(f32).set(Quantization.FLOAT_LE, 4, -3.25e-3f);
        assertThat(dequantize(GgmlType.F32, f32, 2)).containsExactly(1.5f, -3.25e-3f);
        byte[] f16 = {0x00, 0x3C, 0x00, (byte) 0xC0, 0x01, 0x00}; // 1.0, −2.0, smallest subnormal 2^−24
        assertThat(dequantize(GgmlType.F16, f16, 3)).containsExactly(1f, -2f, 0x1p-24f);
        byte[] bf16 = {(byte) 0x80, 0x3F, 0x49, (byte) 0xC0}; // 1.0, −3.140625
        assertThat(dequantize(GgmlType.BF16, bf16, 2)).containsExactly(1f, -3.140625f);
    }

    @Test
    void bf16RoundsToNearestEven() {
        assertThat(Quantization.floatToBf16(1f)).isEqualTo((short) 0x3F80);
        // 1 + 2^-8 is halfway between bf16 1.0 and 1.0078125: ties to even (1.0)
        assertThat(Quantization.floatToBf16(1f + 0x1p-8f)).isEqualTo((short) 0x3F80);
        assertThat(Quantization.floatToBf16(1f + 0x1p-8f + 0x1p-16f)).isEqualTo((short) 0x3F81);
        assertThat(Float.isNaN(Quantization.bf16ToFloat(Quantization.floatToBf16(Float.NaN)))).isTrue();
    }

    /**
     * Round trip error per element, relative to the largest magnitude in its block: half a quantization step plus
     * the f16 rounding of the scales. The bounds are what each format's step size allows.
     */
    @ParameterizedTest
    @EnumSource(names = {"F32", "F16", "BF16", "Q8_0", "Q4_0", "Q4_K", "Q5_K", "Q6_K"})
    void quantizeThenDequantizeStaysWithinTheFormatsResolution(GgmlType type) {
        double bound = switch (type) {
            case F32 -> 0;
            case F16 -> 1.0 / 2048;
            case BF16 -> 1.0 / 256;
            case Q8_0 -> 0.5 / 127 + 1e-3;
            case Q4_0 -> 1.0 / 8 + 1e-3; // the largest magnitude maps to −8·d: the other sign clamps at 7·d
            case Q4_K -> 0.5 / 15 * 2 + 2.0 / 63;
            case Q5_K -> 0.5 / 31 * 2 + 2.0 / 63;
            case Q6_K -> 0.5 / 31 + 1.0 / 127 + 1e-3;
            default -> throw new AssertionError(type);
        };
        Random random = new Random(5);
        int count = 4 * 256;
        float[] src = TestMatrices.gaussian(random, count, 1f);
        for (int i = 0; i < 32; i++) src[i] = 0f; // an all-zero block must survive
        src[300] = 40f; // an outlier
        byte[] bytes = Quantization.quantize(type, src);
        assertThat(bytes).hasSize((int) type.bytesFor(count));
        float[] back = dequantize(type, bytes, count);
        int block = Math.max(type.blockSize, 32);
        double sumSquaredError = 0, sumSquared = 0;
        for (int b = 0; b < count; b += block) {
            float amax = 0;
            for (int i = b; i < b + block; i++) amax = Math.max(amax, Math.abs(src[i]));
            for (int i = b; i < b + block; i++) {
                double error = Math.abs(back[i] - src[i]);
                double allowed = type.blockSize == 1 ? bound * Math.abs(src[i]) : bound * amax;
                assertThat(error).as("%s element %d: %s → %s", type, i, src[i], back[i]).isLessThanOrEqualTo(allowed);
                sumSquaredError += error * error;
                sumSquared += (double) src[i] * src[i];
            }
        }
        double rmsBound = switch (type) {
            case F32 -> 0;
            case F16 -> 5e-4;
            case BF16 -> 4e-3;
            case Q8_0 -> 0.015; // the outlier block (step 40/127) dominates
            case Q6_K -> 0.04;
            case Q5_K -> 0.08;
            default -> 0.16; // 4-bit
        };
        assertThat(Math.sqrt(sumSquaredError / sumSquared)).as("relative RMS error").isLessThanOrEqualTo(rmsBound);
    }

    @Test
    void rejectsUnsupportedTypesByName() {
        assertThatThrownBy(() -> Quantization.quantize(GgmlType.Q4_1, new float[32]))
                .isInstanceOf(UnsupportedOperationException.class).hasMessageContaining("Q4_1");
        assertThatThrownBy(() -> WeightMatrices.of(GgmlType.Q2_K, MemorySegment.ofArray(new byte[84]), 1, 256))
                .isInstanceOf(UnsupportedOperationException.class).hasMessageContaining("Q2_K");
    }

    @Test
    void rejectsMisalignedOrOutOfRangeArguments() {
        MemorySegment data = MemorySegment.ofArray(new byte[2 * 34]);
        assertThatThrownBy(() -> Quantization.quantize(GgmlType.Q8_0, new float[33]))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("33 elements");
        assertThatThrownBy(() -> Quantization.dequantize(GgmlType.Q8_0, data, 16, new float[32], 0, 32))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("block size 32");
        assertThatThrownBy(() -> Quantization.dequantize(GgmlType.Q8_0, data, 32, new float[64], 0, 64))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("segment holds 68");
        assertThatThrownBy(() -> Quantization.dequantize(GgmlType.Q8_0, data, 0, new float[40], 10, 32))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("array of length 40");
    }

    @Test
    void weightMatricesRejectBadShapes() {
        MemorySegment data = MemorySegment.ofArray(new byte[4 * 34]);
        assertThatThrownBy(() -> WeightMatrices.of(GgmlType.Q8_0, data, 2, 48))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("48 columns is not a multiple");
        assertThatThrownBy(() -> WeightMatrices.of(GgmlType.Q8_0, data, 3, 64))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("needs 204 bytes but the segment holds 136");
        assertThatThrownBy(() -> WeightMatrices.of(GgmlType.Q8_0, data, 0, 32))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("must be positive");
        assertThat(WeightMatrices.of(GgmlType.Q8_0, data, 2, 64).rows()).isEqualTo(2);
    }

    private static void packKScales(byte[] block, int p) {
        for (int j = 0; j < 8; j++) {
            int sc = K_SCALES[j], m = K_MINS[j];
            if (j < 4) {
                block[p + j] |= (byte) (sc & 63);
                block[p + j + 4] |= (byte) (m & 63);
            } else {
                block[p + j + 4] = (byte) ((sc & 15) | (m & 15) << 4);
                block[p + j - 4] |= (byte) ((sc >> 4) << 6);
                block[p + j] |= (byte) ((m >> 4) << 6);
            }
        }
    }

    private static void putShort(byte[] b, int i, short v) {
        b[i] = (byte) v;
        b[i + 1] = (byte) (v >> 8);
    }

    private static float[] dequantize(GgmlType type, byte[] bytes, int count) {
        float[] out = new float[count];
        Quantization.dequantize(type, MemorySegment.ofArray(bytes), 0, out, 0, count);
        return out;
    }
}
