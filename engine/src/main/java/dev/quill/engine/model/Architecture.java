package dev.quill.engine.model;

import dev.quill.engine.gguf.GgufException;
import java.util.Arrays;
import java.util.stream.Collectors;

/**
 * The decoder-only transformer families Quill runs, named as in {@code general.architecture}. They share one
 * forward pass and differ only in these switches.
 */
public enum Architecture {
    /** Llama 2/3.x, TinyLlama, SmolLM, Mistral: rotates adjacent pairs (ggml's NORMAL rope). */
    LLAMA("llama", false, false, false),
    /** Qwen2/2.5: biases on the Q, K and V projections, NeoX rope. */
    QWEN2("qwen2", true, true, false),
    /** Qwen3: RMSNorm of each Q and K head before rope, NeoX rope, head size from metadata. */
    QWEN3("qwen3", true, false, true);

    /** The value of {@code general.architecture} and the prefix of the architecture's metadata keys. */
    public final String id;
    /** NeoX rope rotates element i with element i + ropeDims/2; otherwise pairs (2i, 2i+1) rotate. */
    public final boolean neoxRope;
    public final boolean qkvBias;
    public final boolean qkNorm;

    Architecture(String id, boolean neoxRope, boolean qkvBias, boolean qkNorm) {
        this.id = id;
        this.neoxRope = neoxRope;
        this.qkvBias = qkvBias;
        this.qkNorm = qkNorm;
    }

    public static Architecture byId(String id) {
        for (Architecture a : values()) {
            if (a.id.equals(id)) return a;
        }
        throw new GgufException("unsupported architecture '" + id + "' (supported: " + supportedIds() + ")");
    }

    public static String supportedIds() {
        return Arrays.stream(values()).map(a -> a.id).collect(Collectors.joining(", "));
    }
}
