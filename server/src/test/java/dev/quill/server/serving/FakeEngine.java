package dev.quill.server.serving;

import dev.quill.engine.Engine;
import dev.quill.engine.EngineStats;
import dev.quill.engine.QueueFullException;
import dev.quill.engine.sampling.SamplingParams;
import dev.quill.engine.FinishReason;
import dev.quill.engine.GeneratedToken;
import dev.quill.engine.GenerationHandle;
import dev.quill.engine.GenerationListener;
import dev.quill.engine.GenerationRequest;
import dev.quill.engine.ModelInfo;
import dev.quill.engine.TokenLogprob;
import dev.quill.engine.tokenizer.Tokenizer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A deterministic stand-in for the engine. Its "model" recites {@link #SCRIPT} from an offset chosen by the prompt
 * (and, when sampling, the seed), then ends with EOS; every token gets a made-up but fixed logprob, and the requested
 * alternatives rank below it. Each sequence runs on its own thread and calls the listener the way the real engine
 * does: prompt logprobs first, then tokens (not the one that stops the sequence), then onFinish.
 */
final class FakeEngine implements Engine {

    static final String SCRIPT = "Hello world! The quick brown fox jumps over the lazy dog.";

    private final FakeTokenizer tokenizer;
    private final String chatTemplate;
    private final int contextLength;
    private final Duration tokenDelay;
    private final int[] script;
    final List<GenerationRequest> requests = new CopyOnWriteArrayList<>();
    /** Cancellations of sequences that were still running. */
    final AtomicInteger cancellations = new AtomicInteger();
    private volatile boolean closed;
    /** When set, submit refuses like an engine whose wait queue is full. */
    volatile boolean queueFull;

    FakeEngine(FakeTokenizer tokenizer, int contextLength, Duration tokenDelay) {
        this(tokenizer, contextLength, tokenDelay, null);
    }

    /** @param chatTemplate the model's {@code tokenizer.chat_template}, or null */
    FakeEngine(FakeTokenizer tokenizer, int contextLength, Duration tokenDelay, String chatTemplate) {
        this.chatTemplate = chatTemplate;
        this.tokenizer = tokenizer;
        this.contextLength = contextLength;
        this.tokenDelay = tokenDelay;
        this.script = tokenizer.encode(SCRIPT, false, false);
    }

    FakeEngine() {
        this(new FakeTokenizer(false), 4096, Duration.ZERO);
    }

    /** Where generation starts in the script for this prompt and sampling: what tests use to predict output. */
    static int offset(int[] prompt, GenerationRequest request) {
        long h = 0;
        for (int id : prompt) h = h * 31 + id;
        if (!request.sampling().greedy()) {
            Long seed = request.sampling().seed();
            h += seed == null ? ThreadLocalRandom.current().nextLong() : seed * 7;
        }
        return (int) Math.floorMod(h, 12);
    }

    /** The text a request generates when nothing stops it early: the script from its offset, at most maxTokens tokens. */
    String recite(GenerationRequest request) {
        int from = offset(request.prompt(), request);
        int to = Math.min(script.length, from + request.maxTokens());
        return from >= to ? "" : tokenizer.decode(java.util.Arrays.copyOfRange(script, from, to));
    }

    /** The fixed logprob of token {@code id} at position {@code position}. */
    static float logprob(int position, int id) {
        return -(0.05f + Math.floorMod(position * 31 + id * 7, 17) / 10f);
    }

    @Override
    public ModelInfo info() {
        return new ModelInfo("fake-model", "fake", contextLength, tokenizer.vocabSize(), chatTemplate, "fp_fake_1");
    }

    @Override
    public Tokenizer tokenizer() {
        return tokenizer;
    }

    @Override
    public List<GenerationHandle> submit(GenerationRequest group, List<GenerationListener> listeners) {
        for (int id : group.prompt()) {
            if (id < 0 || id >= tokenizer.vocabSize()) throw new IllegalArgumentException("token id " + id + " out of range");
        }
        if (queueFull) throw new QueueFullException(256, 3);
        List<GenerationHandle> handles = new ArrayList<>();
        for (int i = 0; i < listeners.size(); i++) {
            // Sequence i of a seeded group samples with seed + i, as the engine documents.
            GenerationRequest request = group;
            if (group.sampling().seed() != null) {
                var s = group.sampling();
                request = new GenerationRequest(group.prompt(), new SamplingParams(s.temperature(), s.topP(), s.topK(),
                        s.minP(), s.presencePenalty(), s.frequencyPenalty(), s.repetitionPenalty(), s.logitBias(),
                        s.seed() + i), group.maxTokens(), group.logprobs(), group.promptLogprobs(), group.stopTokenIds(),
                        group.ignoreEos());
            }
            requests.add(request);
            Handle handle = new Handle();
            GenerationListener listener = listeners.get(i);
            GenerationRequest sequence = request;
            Thread.startVirtualThread(() -> {
                try {
                    run(sequence, listener, handle);
                } catch (InterruptedException e) {
                    listener.onError(e);
                } finally {
                    handle.done = true;
                }
            });
            handles.add(handle);
        }
        return handles;
    }

    @Override
    public EngineStats stats() {
        return new EngineStats(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0);
    }

    private void run(GenerationRequest request, GenerationListener listener, Handle handle) throws InterruptedException {
        int[] prompt = request.prompt();
        if (request.promptLogprobs()) {
            List<GeneratedToken> tokens = new ArrayList<>();
            tokens.add(null);
            Tokenizer.StreamingDecoder decoder = tokenizer.newStreamingDecoder();
            decoder.next(prompt[0]);
            for (int p = 1; p < prompt.length; p++) tokens.add(token(p, prompt[p], decoder.next(prompt[p]), request.logprobs()));
            listener.onPromptLogprobs(tokens);
        }
        Tokenizer.StreamingDecoder decoder = tokenizer.newStreamingDecoder();
        int position = offset(prompt, request);
        int generated = 0;
        while (true) {
            if (handle.cancelled || closed) {
                listener.onFinish(FinishReason.CANCELLED, -1, Float.NaN, prompt.length, generated, 0);
                return;
            }
            if (generated == request.maxTokens() || prompt.length + generated >= contextLength) {
                listener.onFinish(FinishReason.LENGTH, -1, Float.NaN, prompt.length, generated, 0);
                return;
            }
            int id = position < script.length ? script[position]
                    : request.ignoreEos() ? script[position % script.length] : FakeTokenizer.EOS;
            generated++;
            position++;
            // A stop token is not passed to onToken; it arrives as onFinish's stopTokenId (counted, with its logprob).
            boolean endOfGeneration = !request.ignoreEos() && tokenizer.endOfGenerationIds().contains(id);
            if (endOfGeneration || request.stopTokenIds().contains(id)) {
                float stopLogprob = request.logprobs() < 0 ? Float.NaN : logprob(prompt.length + generated - 1, id);
                listener.onFinish(FinishReason.STOP, id, stopLogprob, prompt.length, generated, 0);
                return;
            }
            listener.onToken(token(prompt.length + generated - 1, id, decoder.next(id), request.logprobs()));
            if (!tokenDelay.isZero()) Thread.sleep(tokenDelay);
        }
    }

    private GeneratedToken token(int position, int id, String text, int logprobs) {
        if (logprobs < 0) return new GeneratedToken(id, text, Float.NaN, List.of());
        float lp = logprob(position, id);
        List<TokenLogprob> top = new ArrayList<>();
        for (int k = 0; k < logprobs; k++) {
            int alt = k == 0 ? id : Math.floorMod(id + k * 5, tokenizer.vocabSize());
            top.add(new TokenLogprob(alt, lp - k * 0.75f));
        }
        return new GeneratedToken(id, text, lp, top);
    }

    @Override
    public void close() {
        closed = true;
    }

    private final class Handle implements GenerationHandle {
        volatile boolean cancelled;
        volatile boolean done;

        @Override
        public void cancel() {
            if (!cancelled && !done) cancellations.incrementAndGet();
            cancelled = true;
        }

        @Override
        public boolean isDone() {
            return done;
        }
    }
}
