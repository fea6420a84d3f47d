package dev.quill.engine.gguf;

import dev.quill.engine.tensor.GgmlType;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.function.Supplier;

/**
 * Writes GGUF version 3 files. Tensor data is produced one tensor at a time by a supplier, so multi-GiB models can
 * be written without holding them in memory. The file is written to a temporary name and moved into place, so a
 * crash never leaves a truncated file behind under the final name.
 */
public final class GgufWriter {

    /** A tensor to write: ggml-order dims (ne0 first) and a supplier of exactly {@code type.bytesFor(n)} bytes. */
    public record TensorSpec(String name, long[] dims, GgmlType type, Supplier<byte[]> data) {
        public long byteSize() {
            long n = 1;
            for (long d : dims) n *= d;
            return type.bytesFor(n);
        }
    }

    private GgufWriter() {}

    public static void write(Path path, Metadata metadata, List<TensorSpec> tensors) {
        int alignment = metadata.has("general.alignment") ? metadata.getInt("general.alignment") : GgufReader.DEFAULT_ALIGNMENT;
        Path tmp = path.resolveSibling(path.getFileName() + ".partial");
        try (OutputStream raw = Files.newOutputStream(tmp);
             Out out = new Out(new BufferedOutputStream(raw, 1 << 20))) {
            out.u32(GgufReader.MAGIC);
            out.u32(3);
            out.u64(tensors.size());
            out.u64(metadata.keys().size());
            for (var e : metadata.entries().entrySet()) {
                out.string(e.getKey());
                Metadata.Value v = e.getValue();
                out.u32(v.type().id);
                if (v.type() == GgufValueType.ARRAY) {
                    out.array(v.elementType(), v.value());
                } else {
                    out.scalar(v.type(), v.value());
                }
            }
            long offset = 0;
            for (TensorSpec t : tensors) {
                if (t.dims()[0] % t.type().blockSize != 0) {
                    throw new GgufException("tensor '" + t.name() + "': first dimension " + t.dims()[0]
                            + " is not a multiple of the " + t.type() + " block size " + t.type().blockSize);
                }
                out.string(t.name());
                out.u32(t.dims().length);
                for (long d : t.dims()) out.u64(d);
                out.u32(t.type().id);
                out.u64(offset);
                offset = GgufReader.align(offset + t.byteSize(), alignment);
            }
            out.pad(alignment);
            for (TensorSpec t : tensors) {
                byte[] bytes = t.data().get();
                if (bytes.length != t.byteSize()) {
                    throw new GgufException("tensor '" + t.name() + "': supplier gave " + bytes.length
                            + " bytes, expected " + t.byteSize());
                }
                out.bytes(bytes);
                out.pad(alignment);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + path + ": " + e.getMessage(), e);
        }
        try {
            Files.move(tmp, path, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot move " + tmp + " to " + path + ": " + e.getMessage(), e);
        }
    }

    /** Little-endian primitive output that tracks its position (for alignment padding). */
    private static final class Out implements AutoCloseable {
        private final OutputStream os;
        private final ByteBuffer buf = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
        private long pos;

        Out(OutputStream os) { this.os = os; }

        void bytes(byte[] b) throws IOException { os.write(b); pos += b.length; }
        void u8(int v) throws IOException { os.write(v); pos++; }
        void u16(int v) throws IOException { buf.clear(); buf.putShort((short) v); bytes(buf.array(), 2); }
        void u32(int v) throws IOException { buf.clear(); buf.putInt(v); bytes(buf.array(), 4); }
        void u64(long v) throws IOException { buf.clear(); buf.putLong(v); bytes(buf.array(), 8); }
        void f32(float v) throws IOException { u32(Float.floatToRawIntBits(v)); }
        void f64(double v) throws IOException { u64(Double.doubleToRawLongBits(v)); }

        private void bytes(byte[] b, int n) throws IOException { os.write(b, 0, n); pos += n; }

        void string(String s) throws IOException {
            byte[] b = s.getBytes(StandardCharsets.UTF_8);
            u64(b.length);
            bytes(b);
        }

        void pad(int alignment) throws IOException {
            while (pos % alignment != 0) u8(0);
        }

        void scalar(GgufValueType t, Object v) throws IOException {
            switch (t) {
                case UINT8, INT8 -> u8((int) num(v));
                case UINT16, INT16 -> u16((int) num(v));
                case UINT32, INT32 -> u32((int) num(v));
                case UINT64, INT64 -> u64(num(v));
                case FLOAT32 -> f32(((Number) v).floatValue());
                case FLOAT64 -> f64(((Number) v).doubleValue());
                case BOOL -> u8(((Boolean) v) ? 1 : 0);
                case STRING -> string((String) v);
                case ARRAY -> throw new IllegalArgumentException("nested ARRAY as scalar");
            }
        }

        private static long num(Object v) {
            return ((Number) v).longValue();
        }

        void array(GgufValueType elem, Object a) throws IOException {
            u32(elem.id);
            switch (a) {
                case String[] s -> { u64(s.length); for (String x : s) string(x); }
                case float[] f -> { u64(f.length); for (float x : f) f32(x); }
                case double[] d -> { u64(d.length); for (double x : d) f64(x); }
                case boolean[] b -> { u64(b.length); for (boolean x : b) u8(x ? 1 : 0); }
                case int[] i -> { u64(i.length); for (int x : i) scalar(elem, (long) x); }
                case long[] l -> { u64(l.length); for (long x : l) scalar(elem, x); }
                case Object[] nested -> {
                    u64(nested.length);
                    for (Object x : nested) array(elementTypeOf(x), x);
                }
                default -> throw new IllegalArgumentException("unsupported array value " + a.getClass());
            }
        }

        private static GgufValueType elementTypeOf(Object a) {
            return switch (a) {
                case String[] s -> GgufValueType.STRING;
                case float[] f -> GgufValueType.FLOAT32;
                case double[] d -> GgufValueType.FLOAT64;
                case boolean[] b -> GgufValueType.BOOL;
                case int[] i -> GgufValueType.INT32;
                case long[] l -> GgufValueType.INT64;
                default -> GgufValueType.ARRAY;
            };
        }

        @Override
        public void close() throws IOException { os.close(); }
    }
}
