package dev.quill.engine;

import dev.quill.engine.gguf.GgufFile;
import dev.quill.engine.model.LanguageModel;
import dev.quill.engine.scheduler.Scheduler;
import dev.quill.engine.tensor.ThreadPool;
import dev.quill.engine.tokenizer.Tokenizer;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;

/** An in-process engine: one model, one loop thread running the {@link Scheduler}. */
final class LocalEngine implements Engine {

    private final ModelInfo info;
    private final Tokenizer tokenizer;
    private final Scheduler scheduler;
    private final LanguageModel model;
    private final GgufFile file;
    private final ThreadPool pool;
    private final Thread loop;
    private final AtomicBoolean closed = new AtomicBoolean();

    LocalEngine(ModelInfo info, Tokenizer tokenizer, Scheduler scheduler, LanguageModel model, GgufFile file,
                ThreadPool pool) {
        this.info = info;
        this.tokenizer = tokenizer;
        this.scheduler = scheduler;
        this.model = model;
        this.file = file;
        this.pool = pool;
        this.loop = Thread.ofPlatform().name("quill-engine").daemon(true).start(scheduler);
    }

    @Override
    public ModelInfo info() {
        return info;
    }

    @Override
    public Tokenizer tokenizer() {
        return tokenizer;
    }

    @Override
    public List<GenerationHandle> submit(GenerationRequest request, List<GenerationListener> listeners) {
        return scheduler.submit(request, listeners);
    }

    @Override
    public EngineStats stats() {
        return scheduler.stats();
    }

    /** Cancels what is left, waits for the loop to stop, then releases the model, the mapping and the threads. */
    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) return;
        scheduler.close();
        boolean interrupted = false;
        while (loop.isAlive()) {
            try {
                loop.join();
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        model.close();
        file.close();
        pool.close();
        if (interrupted) Thread.currentThread().interrupt();
    }
}
