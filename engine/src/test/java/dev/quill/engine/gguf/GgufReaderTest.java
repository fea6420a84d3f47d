package dev.quill.engine.gguf;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.quill.engine.tensor.GgmlType;
import java.io.IOException;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class GgufReaderTest {
    @TempDir Path dir;

    private static byte[] floats(float... v) {
        ByteBuffer b = ByteBuffer.allocate(v.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (float f : v) b.putFloat(f);
        return b.array();
    }

    private Path sample() {
        Metadata md = new Metadata()
                .putString("general.architecture", "llama")
                .put("u8", GgufValueType.UINT8, 200L)
                .put("i8", GgufValueType.INT8, -5L)
                .put("u16", GgufValueType.UINT16, 60000L)
                .put("i16", GgufValueType.INT16, -3000L)
                .putUInt32("u32", 4_000_000_000L)
                .putInt32("i32", -7)
                .put("u64", GgufValueType.UINT64, 1L << 40)
                .put("i64", GgufValueType.INT64, -(1L << 40))
                .putFloat32("f32", 1.5f)
                .put("f64", GgufValueType.FLOAT64, 2.25)
                .putBool("bool", true)
                .putStrings("strs", new String[] {"a", "ü", ""})
                .putFloats("floats", new float[] {1f, -2f})
                .putInts("ints", new int[] {3, -4})
                .putArray("u32s", GgufValueType.UINT32, new long[] {4_000_000_000L})
                .putArray("bools", GgufValueType.BOOL, new boolean[] {true, false})
                .putArray("nested", GgufValueType.ARRAY, new Object[] {new int[] {1}, new String[] {"x"}});
        Path p = dir.resolve("m.gguf");
        GgufWriter.write(p, md, List.of(
                new GgufWriter.TensorSpec("a", new long[] {4, 2}, GgmlType.F32, () -> floats(0, 1, 2, 3, 4, 5, 6, 7)),
                new GgufWriter.TensorSpec("b", new long[] {3}, GgmlType.F32, () -> floats(9, 8, 7))));
        return p;
    }

    @Test
    void roundTripsEveryMetadataTypeAndTensorData() {
        try (GgufFile f = GgufReader.open(sample())) {
            Metadata md = f.metadata();
            assertThat(f.version()).isEqualTo(3);
            assertThat(md.getString("general.architecture")).isEqualTo("llama");
            assertThat(md.getLong("u8")).isEqualTo(200);
            assertThat(md.getLong("i8")).isEqualTo(-5);
            assertThat(md.getLong("u16")).isEqualTo(60000);
            assertThat(md.getLong("i16")).isEqualTo(-3000);
            assertThat(md.getLong("u32")).isEqualTo(4_000_000_000L);
            assertThat(md.getInt("i32")).isEqualTo(-7);
            assertThat(md.getLong("u64")).isEqualTo(1L << 40);
            assertThat(md.getLong("i64")).isEqualTo(-(1L << 40));
            assertThat(md.getFloat("f32")).isEqualTo(1.5f);
            assertThat(md.getDouble("f64")).isEqualTo(2.25);
            assertThat(md.getBool("bool")).isTrue();
            assertThat(md.getStringArray("strs")).containsExactly("a", "ü", "");
            assertThat(md.getFloatArray("floats")).containsExactly(1f, -2f);
            assertThat(md.getIntArray("ints")).containsExactly(3, -4);
            assertThat((long[]) md.raw("u32s").value()).containsExactly(4_000_000_000L);
            assertThat((boolean[]) md.raw("bools").value()).containsExactly(true, false);
            assertThat(((Object[]) md.raw("nested").value())).hasSize(2);
            assertThatThrownBy(() -> md.getInt("u32")).hasMessageContaining("'u32'").hasMessageContaining("32-bit");
            assertThatThrownBy(() -> md.getString("i32")).hasMessageContaining("'i32' should be a string but is INT32");

            TensorInfo a = f.tensor("a");
            assertThat(a.dims()).containsExactly(4, 2);
            assertThat(f.dataStart() % 32).isZero();
            assertThat(f.data(a).getAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED, 7)).isEqualTo(7f);
            TensorInfo b = f.tensor("b");
            assertThat(b.offset() % 32).isZero();
            assertThat(f.data(b).getAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED, 0)).isEqualTo(9f);
        }
    }

    @Test
    void truncatedFileNamesTheFileAndWhatIsMissing() throws IOException {
        byte[] full = Files.readAllBytes(sample());
        Path cut = dir.resolve("cut.gguf");
        // Cut inside the tensor data, then inside the metadata: both must say so, never an IndexOutOfBounds.
        Files.write(cut, java.util.Arrays.copyOf(full, full.length - 25)); // inside b's 12 data bytes (the file ends with padding);
        assertThatThrownBy(() -> GgufReader.open(cut)).isInstanceOf(GgufException.class)
                .hasMessageContaining("cut.gguf").hasMessageContaining("tensor 'b'").hasMessageContaining("truncated");
        Files.write(cut, java.util.Arrays.copyOf(full, 60));
        assertThatThrownBy(() -> GgufReader.open(cut)).isInstanceOf(GgufException.class)
                .hasMessageContaining("cut.gguf").hasMessageContaining("truncated");
    }

    @Test
    void rejectsWrongMagicVersionAndTensorType() throws IOException {
        Path p = dir.resolve("bad.gguf");
        Files.write(p, "GGML....".getBytes());
        assertThatThrownBy(() -> GgufReader.open(p)).hasMessageContaining("not a GGUF file");

        byte[] full = Files.readAllBytes(sample());
        full[4] = 1; // version 1
        Files.write(p, full);
        assertThatThrownBy(() -> GgufReader.open(p)).hasMessageContaining("unsupported GGUF version 1");
    }

    @Test
    void unknownTensorTypeIsNamed() throws IOException {
        byte[] full = Files.readAllBytes(sample());
        // The type id of tensor "a" follows its name and dims; find the name and patch the type field.
        int at = indexOf(full, "a".getBytes(), findTensorInfoStart(full)) + 1 + 4 + 16;
        ByteBuffer.wrap(full).order(ByteOrder.LITTLE_ENDIAN).putInt(at, 99);
        Path p = dir.resolve("type.gguf");
        Files.write(p, full);
        assertThatThrownBy(() -> GgufReader.open(p)).hasMessageContaining("tensor 'a'").hasMessageContaining("unknown tensor type id 99");
    }

    private static int findTensorInfoStart(byte[] b) {
        return indexOf(b, "nested".getBytes(), 0) + 6;
    }

    private static int indexOf(byte[] hay, byte[] needle, int from) {
        outer:
        for (int i = from; i <= hay.length - needle.length; i++) {
            for (int j = 0; j < needle.length; j++) if (hay[i + j] != needle[j]) continue outer;
            // tensor names are preceded by their uint64 length
            if (needle.length == 1 && (i < 8 || hay[i - 8] != 1)) continue;
            return i;
        }
        throw new AssertionError("not found");
    }
}
