package dev.quill.engine.gguf;

import dev.quill.engine.tensor.GgmlType;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Reads GGUF files (versions 2 and 3) by memory-mapping them. Every read is bounds-checked so that a truncated or
 * corrupt file fails with a {@link GgufException} naming the file, the key or tensor, and what was expected.
 */
public final class GgufReader {
    static final int MAGIC = 0x46554747; // "GGUF" read as a little-endian uint32
    static final int DEFAULT_ALIGNMENT = 32;
    private static final ValueLayout.OfInt U32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfLong U64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfShort U16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfDouble F64 = ValueLayout.JAVA_DOUBLE_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final int MAX_DIMS = 4;

    private final Path path;
    private final MemorySegment seg;
    private long pos;
    private String context = "header";

    private GgufReader(Path path, MemorySegment seg) {
        this.path = path;
        this.seg = seg;
    }

    /** Maps and parses {@code path}. The returned file must be closed to unmap it. */
    public static GgufFile open(Path path) {
        Arena arena = Arena.ofShared();
        try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ)) {
            MemorySegment seg = ch.map(FileChannel.MapMode.READ_ONLY, 0, ch.size(), arena);
            return new GgufReader(path, seg).parse(arena);
        } catch (IOException e) {
            arena.close();
            throw new GgufException(path + ": cannot read: " + e.getMessage(), e);
        } catch (RuntimeException e) {
            arena.close();
            throw e;
        }
    }

    private GgufFile parse(Arena arena) {
        if (seg.byteSize() < 4 || seg.get(U32, 0) != MAGIC) {
            throw fail("not a GGUF file (expected magic 'GGUF' at offset 0)");
        }
        pos = 4;
        int version = u32();
        if (version != 2 && version != 3) {
            throw fail("unsupported GGUF version " + version + " (expected 2 or 3)");
        }
        long tensorCount = u64();
        long kvCount = u64();
        long remaining = seg.byteSize() - pos;
        // Each entry takes at least a few bytes, so absurd counts mean corruption, not a huge file.
        if (tensorCount < 0 || tensorCount > remaining / 8) throw fail("tensor count " + tensorCount + " does not fit in a file of " + seg.byteSize() + " bytes: truncated or corrupt");
        if (kvCount < 0 || kvCount > remaining / 8) throw fail("metadata count " + kvCount + " does not fit in a file of " + seg.byteSize() + " bytes: truncated or corrupt");

        Metadata md = new Metadata();
        for (long i = 0; i < kvCount; i++) {
            context = "metadata entry #" + i;
            String key = string();
            context = "metadata key '" + key + "'";
            int typeId = u32();
            GgufValueType type = GgufValueType.byId(typeId);
            if (type == null) throw fail("unknown value type id " + typeId);
            if (type == GgufValueType.ARRAY) {
                int elemId = u32();
                GgufValueType elem = GgufValueType.byId(elemId);
                if (elem == null) throw fail("unknown array element type id " + elemId);
                md.putArray(key, elem, array(elem));
            } else {
                md.put(key, type, scalar(type));
            }
        }

        int alignment = DEFAULT_ALIGNMENT;
        if (md.has("general.alignment")) {
            context = "metadata key 'general.alignment'";
            long a = md.getLong("general.alignment");
            if (a <= 0 || a > (1 << 20) || Long.bitCount(a) != 1) throw fail("alignment must be a power of two, got " + a);
            alignment = (int) a;
        }

        Map<String, TensorInfo> tensors = new LinkedHashMap<>();
        for (long i = 0; i < tensorCount; i++) {
            context = "tensor info #" + i;
            String name = string();
            context = "tensor '" + name + "'";
            int nDims = u32();
            if (nDims < 1 || nDims > MAX_DIMS) throw fail("has " + nDims + " dimensions (expected 1.." + MAX_DIMS + ")");
            long[] dims = new long[nDims];
            for (int d = 0; d < nDims; d++) {
                dims[d] = u64();
                if (dims[d] <= 0) throw fail("has dimension " + d + " = " + Long.toUnsignedString(dims[d]));
            }
            int typeId = u32();
            GgmlType type = GgmlType.byId(typeId);
            if (type == null) throw fail("has unknown tensor type id " + typeId);
            long offset = u64();
            if (offset % alignment != 0) throw fail("data offset " + offset + " is not a multiple of the alignment " + alignment);
            TensorInfo t = new TensorInfo(name, dims, type, offset);
            long n = 1;
            for (long d : dims) {
                n = Math.multiplyExact(n, d);
            }
            if (dims[0] % type.blockSize != 0) {
                throw fail("of type " + type + " has a first dimension " + dims[0] + " that is not a multiple of its block size " + type.blockSize);
            }
            if (tensors.put(name, t) != null) throw fail("appears twice");
        }

        long dataStart = align(pos, alignment);
        for (TensorInfo t : tensors.values()) {
            long end = dataStart + t.offset() + t.byteSize();
            if (t.offset() < 0 || end > seg.byteSize()) {
                context = "tensor '" + t.name() + "'";
                throw fail("data [" + (dataStart + t.offset()) + ", " + end + ") extends past the end of the file ("
                        + seg.byteSize() + " bytes): the file is truncated");
            }
        }
        return new GgufFile(path, version, md, tensors, arena, seg, dataStart);
    }

    static long align(long x, int alignment) {
        return (x + alignment - 1) / alignment * alignment;
    }

    private GgufException fail(String what) {
        return new GgufException(path + ": " + context + ": " + what);
    }

    private void need(long bytes) {
        if (bytes < 0 || pos + bytes > seg.byteSize()) {
            throw fail("truncated: needs " + bytes + " bytes at offset " + pos + " but the file has " + seg.byteSize());
        }
    }

    private int u32() { need(4); int v = seg.get(U32, pos); pos += 4; return v; }
    private long u64() { need(8); long v = seg.get(U64, pos); pos += 8; return v; }

    private String string() {
        long len = u64();
        if (len < 0 || len > seg.byteSize() - pos) throw fail("string length " + Long.toUnsignedString(len) + " exceeds the file");
        if (len > Integer.MAX_VALUE - 8) throw fail("string of " + len + " bytes is too long");
        byte[] b = new byte[(int) len];
        MemorySegment.copy(seg, ValueLayout.JAVA_BYTE, pos, b, 0, b.length);
        pos += len;
        try {
            return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .decode(java.nio.ByteBuffer.wrap(b)).toString();
        } catch (CharacterCodingException e) {
            // Some real vocabularies hold byte sequences that are not valid UTF-8; keep them visible rather than fail.
            return new String(b, StandardCharsets.UTF_8);
        }
    }

    private Object scalar(GgufValueType t) {
        return switch (t) {
            case UINT8 -> { need(1); long v = seg.get(ValueLayout.JAVA_BYTE, pos) & 0xFFL; pos += 1; yield v; }
            case INT8 -> { need(1); long v = seg.get(ValueLayout.JAVA_BYTE, pos); pos += 1; yield v; }
            case UINT16 -> { need(2); long v = seg.get(U16, pos) & 0xFFFFL; pos += 2; yield v; }
            case INT16 -> { need(2); long v = seg.get(U16, pos); pos += 2; yield v; }
            case UINT32 -> Integer.toUnsignedLong(u32());
            case INT32 -> (long) u32();
            case UINT64, INT64 -> u64();
            case FLOAT32 -> { need(4); float v = seg.get(F32, pos); pos += 4; yield v; }
            case FLOAT64 -> { need(8); double v = seg.get(F64, pos); pos += 8; yield v; }
            case BOOL -> {
                need(1);
                byte b = seg.get(ValueLayout.JAVA_BYTE, pos);
                pos += 1;
                if (b != 0 && b != 1) throw fail("boolean byte is " + b + " (expected 0 or 1)");
                yield b == 1;
            }
            case STRING -> string();
            case ARRAY -> throw fail("nested array where a scalar was expected");
        };
    }

    private static int fixedSize(GgufValueType t) {
        return switch (t) {
            case UINT8, INT8, BOOL -> 1;
            case UINT16, INT16 -> 2;
            case UINT32, INT32, FLOAT32 -> 4;
            case UINT64, INT64, FLOAT64 -> 8;
            case STRING, ARRAY -> 8; // at least the length/header
        };
    }

    private Object array(GgufValueType elem) {
        long count = u64();
        if (count < 0 || count > (seg.byteSize() - pos) / fixedSize(elem) || count > Integer.MAX_VALUE - 8) {
            throw fail("array of " + Long.toUnsignedString(count) + " " + elem + " values exceeds the file");
        }
        int n = (int) count;
        switch (elem) {
            case STRING -> {
                String[] a = new String[n];
                for (int i = 0; i < n; i++) a[i] = string();
                return a;
            }
            case FLOAT32 -> {
                float[] a = new float[n];
                MemorySegment.copy(seg, F32, pos, a, 0, n);
                pos += 4L * n;
                return a;
            }
            case FLOAT64 -> {
                double[] a = new double[n];
                MemorySegment.copy(seg, F64, pos, a, 0, n);
                pos += 8L * n;
                return a;
            }
            case BOOL -> {
                boolean[] a = new boolean[n];
                for (int i = 0; i < n; i++) a[i] = (Boolean) scalar(GgufValueType.BOOL);
                return a;
            }
            case INT32 -> {
                int[] a = new int[n];
                MemorySegment.copy(seg, U32, pos, a, 0, n);
                pos += 4L * n;
                return a;
            }
            case UINT8, INT8, UINT16, INT16 -> {
                int[] a = new int[n];
                for (int i = 0; i < n; i++) a[i] = (int) (long) (Long) scalar(elem);
                return a;
            }
            case UINT32, INT64, UINT64 -> {
                long[] a = new long[n];
                for (int i = 0; i < n; i++) a[i] = (Long) scalar(elem);
                return a;
            }
            case ARRAY -> {
                Object[] a = new Object[n];
                for (int i = 0; i < n; i++) {
                    int id = u32();
                    GgufValueType inner = GgufValueType.byId(id);
                    if (inner == null) throw fail("unknown nested array element type id " + id);
                    a[i] = array(inner);
                }
                return a;
            }
            default -> throw new AssertionError(elem);
        }
    }
}
