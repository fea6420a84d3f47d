package dev.quill.engine.model;

import dev.quill.engine.gguf.GgufException;
import dev.quill.engine.gguf.GgufFile;
import dev.quill.engine.gguf.GgufReader;
import dev.quill.engine.tensor.ThreadPool;
import java.nio.file.Path;

/** Loads GGUF models. Weights stay memory-mapped; the matmuls of every forward pass run on the given pool. */
public final class Models {

    private Models() {
    }

    /** Opens, checks and loads the model at {@code path}; closing the model unmaps the file. */
    public static Transformer load(Path path, ThreadPool pool) {
        GgufFile file = GgufReader.open(path);
        try {
            return create(file, pool, file);
        } catch (RuntimeException e) {
            file.close();
            throw e;
        }
    }

    /** Loads the model of an already open file, which stays the caller's to close (after the model). */
    public static Transformer load(GgufFile file, ThreadPool pool) {
        return create(file, pool, null);
    }

    private static Transformer create(GgufFile file, ThreadPool pool, GgufFile owned) {
        ModelConfig config;
        try {
            config = ModelConfig.from(file.metadata());
        } catch (GgufException e) {
            throw new GgufException(file.path() + ": " + e.getMessage(), e);
        }
        return new Transformer(config, ModelWeights.load(file, config), pool, owned, Transformer.DEFAULT_MAX_PASS_TOKENS);
    }
}
