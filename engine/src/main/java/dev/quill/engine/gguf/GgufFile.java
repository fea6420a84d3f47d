package dev.quill.engine.gguf;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.Collections;
import java.util.Map;

/**
 * An open, memory-mapped GGUF file. Tensor data are slices of the mapping (never copied); they stay valid until
 * {@link #close()}.
 */
public final class GgufFile implements AutoCloseable {
    private final Path path;
    private final int version;
    private final Metadata metadata;
    private final Map<String, TensorInfo> tensors;
    private final Arena arena;
    private final MemorySegment mapping;
    private final long dataStart;

    GgufFile(Path path, int version, Metadata metadata, Map<String, TensorInfo> tensors, Arena arena,
             MemorySegment mapping, long dataStart) {
        this.path = path;
        this.version = version;
        this.metadata = metadata;
        this.tensors = Collections.unmodifiableMap(tensors);
        this.arena = arena;
        this.mapping = mapping;
        this.dataStart = dataStart;
    }

    public Path path() { return path; }
    public int version() { return version; }
    public Metadata metadata() { return metadata; }

    /** Tensor infos by name, in file order. */
    public Map<String, TensorInfo> tensors() { return tensors; }

    public TensorInfo tensor(String name) {
        TensorInfo t = tensors.get(name);
        if (t == null) throw new GgufException(path + ": tensor '" + name + "' not found");
        return t;
    }

    /** The tensor's bytes, in place in the mapping. */
    public MemorySegment data(TensorInfo t) {
        return mapping.asSlice(dataStart + t.offset(), t.byteSize());
    }

    /** Byte offset of the data section within the file. */
    public long dataStart() { return dataStart; }

    @Override
    public void close() {
        if (arena != null) arena.close();
    }
}
