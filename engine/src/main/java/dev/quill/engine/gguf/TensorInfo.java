package dev.quill.engine.gguf;

import dev.quill.engine.tensor.GgmlType;
import java.util.Arrays;

/**
 * A tensor's entry in a GGUF file.
 *
 * @param dims   ggml order: dims[0] (ne0) varies fastest, so a row-major [rows, cols] matrix has dims {cols, rows}
 * @param offset byte offset of the data relative to the start of the file's data section
 */
public record TensorInfo(String name, long[] dims, GgmlType type, long offset) {

    public long elementCount() {
        long n = 1;
        for (long d : dims) n *= d;
        return n;
    }

    public long byteSize() {
        return type.bytesFor(elementCount());
    }

    @Override
    public String toString() {
        return name + " " + type + " " + Arrays.toString(dims);
    }
}
