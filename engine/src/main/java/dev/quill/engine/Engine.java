package dev.quill.engine;

import dev.quill.engine.tokenizer.Tokenizer;

/**
 * The engine facade: one loaded model and the loop that runs it. Thread-safe; {@link #submit} may be called from
 * any thread. Obtain one with {@code Engines.load(path, options)}.
 */
public interface Engine extends AutoCloseable {

    ModelInfo info();

    Tokenizer tokenizer();

    /** Queues a generation; the listener receives its output. */
    GenerationHandle submit(GenerationRequest request, GenerationListener listener);

    /** Stops the loop; sequences still running are finished with {@link FinishReason#CANCELLED}. */
    @Override
    void close();
}
