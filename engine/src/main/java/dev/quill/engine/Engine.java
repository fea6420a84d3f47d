package dev.quill.engine;

import dev.quill.engine.tokenizer.Tokenizer;
import java.util.List;

/**
 * The engine facade: one loaded model and the loop that runs it. Thread-safe; {@link #submit} may be called from
 * any thread. Obtain one with {@code Engines.load(path, options)}.
 */
public interface Engine extends AutoCloseable {

    ModelInfo info();

    Tokenizer tokenizer();

    /**
     * Queues a generation; the listener receives its output.
     *
     * @throws QueueFullException       when the wait queue is full (nothing was queued)
     * @throws IllegalArgumentException when the request does not fit this model (a prompt token outside the
     *                                  vocabulary, a prompt longer than the context, more than 20 logprobs, ...)
     * @throws IllegalStateException    after {@link #close()}
     */
    default GenerationHandle submit(GenerationRequest request, GenerationListener listener) {
        return submit(request, List.of(listener)).getFirst();
    }

    /**
     * Queues {@code listeners.size()} sequences that continue one prompt independently (OpenAI's {@code n} and
     * {@code best_of}). The prompt is computed once and its KV blocks are shared. With a seed, sequence {@code i}
     * samples with seed {@code seed + i}, so the first one equals a single request with that seed. The group takes one
     * place in the wait queue. Exceptions as for {@link #submit(GenerationRequest, GenerationListener)}.
     *
     * @return one handle per listener, in the same order
     */
    List<GenerationHandle> submit(GenerationRequest request, List<GenerationListener> listeners);

    /** A snapshot of queue, batch and KV cache figures for metrics. */
    EngineStats stats();

    /** Stops the loop; sequences still running or waiting are finished with {@link FinishReason#CANCELLED}. */
    @Override
    void close();
}
