package dev.quill.engine.scheduler;

import dev.quill.engine.EngineOptions;
import dev.quill.engine.EngineStats;
import dev.quill.engine.FinishReason;
import dev.quill.engine.GeneratedToken;
import dev.quill.engine.GenerationHandle;
import dev.quill.engine.GenerationListener;
import dev.quill.engine.GenerationRequest;
import dev.quill.engine.QueueFullException;
import dev.quill.engine.grammar.GrammarMatcher;
import dev.quill.engine.model.KvCache;
import dev.quill.engine.model.LanguageModel;
import dev.quill.engine.model.SequenceChunk;
import dev.quill.engine.sampling.Logprobs;
import dev.quill.engine.sampling.Sampler;
import dev.quill.engine.sampling.SamplingParams;
import dev.quill.engine.sampling.TokenMask;
import dev.quill.engine.tokenizer.Tokenizer;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The engine loop: continuous batching over a paged KV cache.
 *
 * <p>Every {@link #step()} builds one forward pass from the next token of every running sequence (oldest first) plus
 * chunks of waiting prompts, up to {@code maxBatchTokens} tokens; samples each finished row with the sequence's own
 * sampler; and reports tokens to the listeners. New requests join between steps. When a running sequence needs a
 * block and none can be had, the newest running sequence is preempted: its blocks are freed and it goes back to the
 * head of the queue to be recomputed later, keeping its sampler so that its output does not change.
 *
 * <p>{@link #submit} and {@link #close} may be called from any thread; everything else runs on the one engine
 * thread, which calls {@link #run()} (or, in tests, {@link #step()} directly).
 */
public final class Scheduler implements Runnable {

    private static final System.Logger LOG = System.getLogger(Scheduler.class.getName());
    /**
     * Prompt tokens per step of a sequence that wants prompt logprobs: each needs a whole logits row (half a MB
     * with a 128k vocabulary), so its chunks stay small.
     */
    static final int MAX_PROMPT_LOGIT_ROWS = 128;

    private final LanguageModel model;
    private final Tokenizer tokenizer;
    private final KvCache cache;
    private final BlockManager blocks;
    private final int vocab;
    private final int contextLength;
    private final int maxBatchTokens;
    private final int maxSequences;
    private final int maxQueue;
    private final int speculativeTokens;
    private final Set<Integer> endOfGeneration;
    private final Executor delivery;
    /** This step's listener calls, made together when it ends (engine thread only). */
    private final List<Runnable> outbox = new ArrayList<>();

    // Shared with submitting threads.
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition wake = lock.newCondition();
    private final ArrayDeque<Sequence> inbox = new ArrayDeque<>(); // guarded by lock
    private boolean wakeRequested; // guarded by lock
    private volatile boolean closed;
    /** Requests accepted and not started: what the queue bound applies to. */
    private final AtomicInteger queued = new AtomicInteger();
    private volatile EngineStats stats;
    /** Smoothed time between two finished sequences, for the retry-after hint. */
    private volatile double finishGapNanos = Double.NaN;
    private long lastFinishNanos;

    // Engine thread only.
    private final ArrayDeque<Sequence> waiting = new ArrayDeque<>();
    private final List<Sequence> running = new ArrayList<>();
    private long promptTokens;
    private long generatedTokens;
    private long preemptions;
    private long guessedTokens;
    private long keptGuesses;
    /** How often guesses held across sequences: where a new sequence's {@link Speculation} estimate starts. */
    private final Speculation guessRecord = new Speculation();

    /**
     * A scheduler that makes its listener calls on its own thread, at the end of each step.
     *
     * @throws IllegalArgumentException when the KV cache budget cannot hold even one block
     */
    public Scheduler(LanguageModel model, Tokenizer tokenizer, EngineOptions options) {
        this(model, tokenizer, options, Runnable::run);
    }

    /**
     * Sizes the KV cache from {@code options.kvCacheBytes()} (but no larger than {@code maxSequences} sequences at
     * full context) and creates it. A step's listener calls are handed to {@code delivery} together when the step
     * ends; it must run tasks one at a time, in order. A thread that is idle between forward passes suits it
     * ({@code ThreadPool.offload}): the client threads the calls wake tend to be run by the OS on the waking thread's
     * core, and on the engine loop's core they would hold up the next pass (see docs/performance.md).
     *
     * @throws IllegalArgumentException when the budget cannot hold even one block
     */
    public Scheduler(LanguageModel model, Tokenizer tokenizer, EngineOptions options, Executor delivery) {
        this.delivery = Objects.requireNonNull(delivery, "delivery");
        this.model = model;
        this.tokenizer = tokenizer;
        this.vocab = model.vocabSize();
        int blockSize = options.blockSize();
        long bytesPerBlock = model.kvBytesPerToken(options.kvF16()) * blockSize;
        int wanted = options.contextLength() > 0 ? Math.min(options.contextLength(), model.contextLength()) : model.contextLength();
        // The budget is an upper bound: never more than every sequence at full context could use.
        long usable = (long) options.maxSequences() * ((wanted + blockSize - 1) / blockSize);
        long numBlocks = Math.min(Math.min(options.kvCacheBytes() / bytesPerBlock, usable), Integer.MAX_VALUE / blockSize);
        if (numBlocks < 1) {
            throw new IllegalArgumentException("a KV cache of " + options.kvCacheBytes() + " bytes cannot hold one block of "
                    + blockSize + " tokens (" + bytesPerBlock + " bytes for this model)");
        }
        this.contextLength = (int) Math.min(wanted, numBlocks * blockSize);
        this.cache = model.createKvCache((int) numBlocks, blockSize, options.kvF16());
        this.blocks = new BlockManager(cache, options.prefixCaching());
        this.maxBatchTokens = options.maxBatchTokens();
        this.maxSequences = options.maxSequences();
        this.maxQueue = options.maxQueue();
        this.speculativeTokens = options.speculativeTokens();
        this.endOfGeneration = Set.copyOf(tokenizer.endOfGenerationIds());
        publishStats();
    }

    /** Tokens of context each sequence gets: the model's, lowered by the options and by the KV cache budget. */
    public int contextLength() {
        return contextLength;
    }

    /**
     * Queues one request for {@code listeners.size()} sequences (see {@code Engine.submit}). Validation errors and a
     * full queue are thrown here, in the caller's thread.
     */
    public List<GenerationHandle> submit(GenerationRequest request, List<GenerationListener> listeners) {
        validate(request, listeners);
        List<Sequence> members = new ArrayList<>(listeners.size());
        GrammarMatcher grammar = request.grammar() == null ? null : request.grammar().matcher(tokenizer);
        for (int i = 0; i < listeners.size(); i++) {
            Sampler sampler = new Sampler(seedFor(request.sampling(), i), vocab, request.prompt());
            members.add(new Sequence(request, listeners.get(i), sampler, tokenizer.newStreamingDecoder(),
                    grammar == null || i == 0 ? grammar : grammar.copy(), this::wakeUp));
        }
        Sequence leader = members.getFirst();
        leader.followers.addAll(members.subList(1, members.size()));
        lock.lock();
        try {
            if (closed) throw new IllegalStateException("the engine is closed");
            int length = queued.get();
            if (length >= maxQueue) throw new QueueFullException(length, retryAfterSeconds(length));
            queued.incrementAndGet();
            inbox.addLast(leader);
            wake.signal();
        } finally {
            lock.unlock();
        }
        return List.copyOf(members);
    }

    /** The latest figures; safe from any thread. */
    public EngineStats stats() {
        return stats.withQueued(queued.get());
    }

    /** Makes {@link #run()} cancel everything and return. Safe from any thread; does not wait. */
    public void close() {
        lock.lock();
        try {
            closed = true;
            wake.signal();
        } finally {
            lock.unlock();
        }
    }

    /** The loop: steps while there is work, sleeps while there is none, and cancels everything once closed. */
    @Override
    public void run() {
        try {
            while (!closed) {
                boolean worked;
                try {
                    worked = step();
                } catch (RuntimeException | OutOfMemoryError e) {
                    LOG.log(System.Logger.Level.ERROR, "engine step failed; failing all sequences", e);
                    failEverything(e);
                    flushDeliveries();
                    worked = true;
                }
                if (!worked) awaitWork();
            }
        } finally {
            cancelEverything();
            flushDeliveries();
        }
    }

    /**
     * Runs one iteration: takes new requests, drops cancelled sequences, schedules and runs one forward pass, and
     * hands out the sampled tokens. Returns false when there was nothing to compute.
     */
    public boolean step() {
        try {
            return iterate();
        } finally {
            flushDeliveries();
        }
    }

    private boolean iterate() {
        drainInbox();
        dropCancelled();
        Batch batch = schedule();
        if (batch.isEmpty()) {
            publishStats();
            return false;
        }
        float[] logits;
        try {
            logits = model.forward(batch.chunks, cache);
        } catch (RuntimeException e) {
            LOG.log(System.Logger.Level.ERROR, "forward pass failed; failing its sequences", e);
            for (Sequence s : batch.sequences) failGroup(s, e);
            running.removeIf(Sequence::isDone);
            publishStats();
            return true;
        }
        process(batch, logits);
        running.removeIf(Sequence::isDone);
        publishStats();
        return true;
    }

    // ---- scheduling ------------------------------------------------------------------------------------------

    /** The sequences and chunks of one forward pass, in the same order, with the guesses of speculative chunks. */
    private static final class Batch {
        private static final int[] NO_GUESS = new int[0];

        final List<Sequence> sequences = new ArrayList<>();
        final List<SequenceChunk> chunks = new ArrayList<>();
        final List<int[]> guesses = new ArrayList<>();

        void add(Sequence s, int count) {
            int[] tokens = Arrays.copyOfRange(s.tokens(), s.computed, s.computed + count);
            sequences.add(s);
            chunks.add(new SequenceChunk(tokens, s.computed, s.blocks.toArray(), s.promptLogprobs != null));
            guesses.add(NO_GUESS);
        }

        /** The sequence's last token followed by {@code guess}, with logits for every row (see {@link Speculation}). */
        void addGuessed(Sequence s, int[] guess) {
            int[] tokens = new int[1 + guess.length];
            tokens[0] = s.tokens()[s.computed];
            System.arraycopy(guess, 0, tokens, 1, guess.length);
            sequences.add(s);
            chunks.add(new SequenceChunk(tokens, s.computed, s.blocks.toArray(), true));
            guesses.add(guess);
        }

        boolean isEmpty() {
            return sequences.isEmpty();
        }
    }

    private Batch schedule() {
        Batch batch = new Batch();
        int budget = maxBatchTokens;
        boolean preempted = false;
        int[][] guesses = guesses(budget);
        for (int i = 0; i < running.size() && budget > 0; i++) {
            Sequence s = running.get(i);
            int count = chunkSize(s, budget);
            int[] guess = guesses == null ? Batch.NO_GUESS : guesses[i];
            if (guess.length > 0 && blocks.allocateSlots(s.blocks, s.computed, s.computed + 1 + guess.length)) {
                batch.addGuessed(s, guess);
                budget -= 1 + guess.length;
                continue;
            }
            boolean fits;
            while (!(fits = blocks.allocateSlots(s.blocks, s.computed, s.computed + count))) {
                Sequence victim = running.removeLast(); // the newest; never one already in this batch
                preempt(victim);
                preempted = true;
                if (victim == s) break;
            }
            if (!fits) break;
            batch.add(s, count);
            budget -= count;
        }
        // Admitting new work right after preempting would only thrash.
        if (!preempted) admit(batch, budget);
        return batch;
    }

    private void admit(Batch batch, int budget) {
        while (budget > 0 && !waiting.isEmpty()) {
            Sequence s = waiting.peekFirst();
            if (!running.isEmpty() && running.size() + s.groupSize() > maxSequences) return;
            BlockManager.PrefixMatch match = s.mayReuseCache()
                    ? blocks.matchPrefix(s.tokens(), s.length() - 1)
                    : BlockManager.PrefixMatch.NONE;
            int start = match.blocks() * blocks.blockSize();
            s.computed = start;
            int count = chunkSize(s, budget);
            if (!blocks.allocate(s.blocks, match, start + count)) {
                if (running.isEmpty()) {
                    // Cannot happen while the context length fits the cache; failing beats waiting forever.
                    throw new IllegalStateException("sequence of " + s.length() + " tokens cannot get KV blocks with "
                            + blocks.availableBlocks() + " of " + blocks.totalBlocks() + " available");
                }
                return;
            }
            waiting.pollFirst();
            if (!s.started) {
                s.started = true;
                s.speculation.startAt(s.request.predicted().length > 0
                        ? Math.max(Speculation.PREDICTED_PRIOR, guessRecord.hitRate()) : guessRecord.hitRate());
                s.cachedPromptTokens = start;
                queued.decrementAndGet();
                promptTokens += s.promptLength;
            }
            running.add(s);
            batch.add(s, count);
            budget -= count;
        }
    }

    /**
     * Draft tokens for this step's decoding sequences, by position in {@code running}, or null for none. Guessing
     * pays only while a pass is bound by reading the weights rather than by its arithmetic: one sequence alone may
     * guess up to {@code speculativeTokens} (as its {@link Speculation} estimate decides); two decoding together
     * guess one each, and only both or neither (2 tokens cost 1.45 passes of one, 3 or 4 cost 2: the guesses pay
     * when their hit rates add up to more than ~0.76, which each one's estimate allowing a guess ensures). With more
     * sequences, or anything waiting, extra tokens cost about what they compute, and nobody guesses.
     */
    private int[][] guesses(int budget) {
        int n = running.size();
        if (speculativeTokens == 0 || n == 0 || n > 2 || !waiting.isEmpty()) return null;
        int[][] guesses = new int[n][];
        for (int i = 0; i < n; i++) {
            Sequence s = running.get(i);
            // Decoding (prompt computed: the prompt's last step still reports prompt logprobs and forks followers),
            // unconstrained, alone in its group.
            if (s.computed != s.length() - 1 || s.computed < s.promptLength || s.grammar != null
                    || !s.followers.isEmpty()) {
                return null;
            }
            int max = Math.min(Math.min(n == 1 ? speculativeTokens : 1, budget / n - 1),
                    Math.min(tokensLeft(s), contextLength - s.length()) - 1);
            guesses[i] = max <= 0 ? Batch.NO_GUESS
                    : s.speculation.propose(s.tokens(), s.length(), s.promptLength, s.request.predicted(), max);
            if (guesses[i].length == 0 && n > 1) return null;
        }
        return guesses;
    }

    /** Tokens of the sequence to compute this step: what is left, within the budget and the logits cap. */
    private static int chunkSize(Sequence s, int budget) {
        int count = Math.min(s.length() - s.computed, budget);
        return s.promptLogprobs != null ? Math.min(count, MAX_PROMPT_LOGIT_ROWS) : count;
    }

    private void preempt(Sequence s) {
        blocks.free(s.blocks);
        s.computed = 0;
        waiting.addFirst(s);
        preemptions++;
    }

    // ---- results ---------------------------------------------------------------------------------------------

    private void process(Batch batch, float[] logits) {
        int offset = 0;
        for (int k = 0; k < batch.sequences.size(); k++) {
            Sequence s = batch.sequences.get(k);
            SequenceChunk chunk = batch.chunks.get(k);
            int[] guess = batch.guesses.get(k);
            if (guess.length > 0) {
                verify(s, guess, logits, offset);
                offset += chunk.logitRows() * vocab;
                continue;
            }
            if (chunk.allLogits()) recordPromptLogprobs(s, chunk, logits, offset);
            int lastRow = offset + (chunk.logitRows() - 1) * vocab;
            offset += chunk.logitRows() * vocab;
            s.computed += chunk.tokens().length;
            blocks.cacheFullBlocks(s.blocks, s.tokens(), s.computed);
            if (s.computed < s.length()) continue; // more of the prompt to come
            if (s.promptLogprobs != null) reportPromptLogprobs(s);
            List<Sequence> forked = s.followers.isEmpty() ? List.of() : fork(s);
            if (s.cancelRequested()) finish(s, FinishReason.CANCELLED);
            else next(s, logits, lastRow);
            for (Sequence f : forked) next(f, logits, lastRow);
        }
    }

    /**
     * Samples a speculative chunk's rows in order, as one-token steps would: row j follows the last token and the
     * first j guesses, so it is used only while every token drawn so far equalled its guess. The KV of the last token
     * and of each guess that held is kept ({@code computed} grows past them); the rest is overwritten later.
     */
    private void verify(Sequence s, int[] guess, float[] logits, int offset) {
        s.computed++;
        int kept = 0;
        for (int j = 0; ; j++) {
            blocks.cacheFullBlocks(s.blocks, s.tokens(), s.computed);
            if (s.cancelRequested()) {
                finish(s, FinishReason.CANCELLED);
                break;
            }
            next(s, logits, offset + j * vocab);
            if (s.isDone() || j == guess.length || s.tokens()[s.length() - 1] != guess[j]) break;
            s.computed++;
            kept++;
        }
        s.speculation.record(guess.length, kept);
        guessRecord.record(guess.length, kept);
        guessedTokens += guess.length;
        keptGuesses += kept;
    }

    private void recordPromptLogprobs(Sequence s, SequenceChunk chunk, float[] logits, int offset) {
        int topN = Math.max(0, s.request.logprobs());
        for (int j = 0; j < chunk.tokens().length; j++) {
            int position = chunk.startPos() + j + 1; // row j predicts the token after it
            if (position >= s.promptLength) break;
            s.promptLogprobs[position] = Logprobs.of(logits, offset + j * vocab, vocab, s.tokens()[position], topN);
        }
    }

    private void reportPromptLogprobs(Sequence s) {
        Tokenizer.StreamingDecoder decoder = tokenizer.newStreamingDecoder();
        List<GeneratedToken> entries = new ArrayList<>(s.promptLength);
        decoder.next(s.tokens()[0]);
        entries.add(null);
        for (int p = 1; p < s.promptLength; p++) {
            int id = s.tokens()[p];
            Logprobs lp = s.promptLogprobs[p];
            entries.add(new GeneratedToken(id, decoder.next(id), lp.chosen().logprob(), lp.top()));
        }
        s.promptLogprobs = null;
        List<GeneratedToken> view = Collections.unmodifiableList(entries);
        deliver(s, () -> s.listener.onPromptLogprobs(view));
        for (Sequence f : s.followers) deliver(f, () -> f.listener.onPromptLogprobs(view));
    }

    /** Starts the followers of a finished prompt: each shares the leader's blocks and joins the running set. */
    private List<Sequence> fork(Sequence leader) {
        List<Sequence> started = new ArrayList<>(leader.followers.size());
        for (Sequence f : leader.followers) {
            f.started = true;
            f.cachedPromptTokens = leader.cachedPromptTokens;
            f.promptLogprobs = null; // the leader reported them to the whole group
            if (f.cancelRequested()) {
                finish(f, FinishReason.CANCELLED);
                continue;
            }
            blocks.fork(leader.blocks, f.blocks);
            f.computed = leader.computed;
            running.add(f);
            started.add(f);
        }
        leader.followers.clear();
        return started;
    }

    /** Samples the sequence's next token from the row at {@code row}, reports it, and ends the sequence if due. */
    private void next(Sequence s, float[] logits, int row) {
        GenerationRequest r = s.request;
        if (s.generated >= r.maxTokens() || s.length() >= contextLength) {
            finish(s, FinishReason.LENGTH);
            return;
        }
        int token;
        Logprobs lp;
        try {
            TokenMask allowed = s.grammar == null ? null : s.grammar.mask(tokensLeft(s));
            token = s.sampler.sample(logits, row, allowed);
            s.sampler.accept(token);
            lp = r.logprobs() >= 0 ? logprobs(logits, row, token, r.logprobs(), allowed) : null;
            if (s.grammar != null && !s.grammar.acceptToken(token)) {
                throw new IllegalStateException("sampled token " + token + " is not allowed by the grammar");
            }
        } catch (RuntimeException e) {
            fail(s, e);
            return;
        }
        s.generated++;
        generatedTokens++;
        if ((!r.ignoreEos() && endOfGeneration.contains(token)) || r.stopTokenIds().contains(token)) {
            finish(s, FinishReason.STOP, token, lp == null ? Float.NaN : lp.chosen().logprob());
            return;
        }
        s.append(token);
        boolean complete = s.grammar != null && s.grammar.isFinished(tokensLeft(s));
        boolean last = complete || s.generated >= r.maxTokens() || s.length() >= contextLength;
        String text = last ? s.decoder.next(token) + s.decoder.finish() : s.decoder.next(token);
        GeneratedToken out = lp == null
                ? new GeneratedToken(token, text, Float.NaN, List.of())
                : new GeneratedToken(token, text, lp.chosen().logprob(), lp.top());
        deliver(s, () -> s.listener.onToken(out));
        if (last) finish(s, complete ? FinishReason.STOP : FinishReason.LENGTH);
    }

    /** Tokens the sequence may still generate. */
    private int tokensLeft(Sequence s) {
        return Math.min(s.request.maxTokens() - s.generated, contextLength - s.length());
    }

    /** Logprobs of the distribution sampled from: a constrained sequence's disallowed tokens are impossible. */
    private Logprobs logprobs(float[] logits, int row, int token, int top, TokenMask allowed) {
        if (allowed == null) return Logprobs.of(logits, row, vocab, token, top);
        float[] masked = Arrays.copyOfRange(logits, row, row + vocab);
        allowed.disallowIn(masked, vocab);
        return Logprobs.of(masked, 0, vocab, token, top);
    }

    // ---- ending sequences ------------------------------------------------------------------------------------

    /** Ends a sequence for a reason other than a stop token. */
    private void finish(Sequence s, FinishReason reason) {
        finish(s, reason, -1, Float.NaN);
    }

    private void finish(Sequence s, FinishReason reason, int stopToken, float stopTokenLogprob) {
        if (s.isDone()) return;
        release(s);
        int promptLength = s.promptLength, generated = s.generated, cached = s.cachedPromptTokens;
        deliver(s, () -> s.listener.onFinish(reason, stopToken, stopTokenLogprob, promptLength, generated, cached));
    }

    private void fail(Sequence s, Throwable error) {
        if (s.isDone()) return;
        release(s);
        deliver(s, () -> s.listener.onError(error));
    }

    private void release(Sequence s) {
        blocks.free(s.blocks);
        s.markDone();
        long now = System.nanoTime();
        if (lastFinishNanos != 0) {
            double gap = now - lastFinishNanos;
            finishGapNanos = Double.isNaN(finishGapNanos) ? gap : 0.9 * finishGapNanos + 0.1 * gap;
        }
        lastFinishNanos = now;
    }

    /**
     * Queues a listener call for the end of the step (see {@link #flushDeliveries}); a listener that throws loses its
     * sequence at the next step, as if its client had gone away (a finished one has nothing left to lose).
     */
    private void deliver(Sequence s, Runnable call) {
        outbox.add(() -> {
            try {
                call.run();
            } catch (RuntimeException e) {
                LOG.log(System.Logger.Level.WARNING, "generation listener threw; cancelling its sequence", e);
                s.cancel();
            }
        });
    }

    /** Hands the step's queued listener calls to {@link #delivery} as one task that makes them in order. */
    private void flushDeliveries() {
        if (outbox.isEmpty()) return;
        Runnable[] calls = outbox.toArray(Runnable[]::new);
        outbox.clear();
        delivery.execute(() -> {
            for (Runnable call : calls) call.run();
        });
    }

    private void failGroup(Sequence s, Throwable error) {
        for (Sequence f : s.followers) fail(f, error);
        s.followers.clear();
        fail(s, error);
    }

    private void dropCancelled() {
        for (var it = waiting.iterator(); it.hasNext(); ) {
            Sequence s = it.next();
            if (!s.groupCancelled()) continue;
            it.remove();
            if (!s.started) queued.decrementAndGet();
            cancelGroup(s);
        }
        for (Sequence s : running) {
            if (s.groupCancelled()) cancelGroup(s);
        }
        running.removeIf(Sequence::isDone);
    }

    private void cancelGroup(Sequence s) {
        for (Sequence f : s.followers) finish(f, FinishReason.CANCELLED);
        s.followers.clear();
        finish(s, FinishReason.CANCELLED);
    }

    private void failEverything(Throwable error) {
        for (Sequence s : running) failGroup(s, error);
        running.clear();
        for (Sequence s : waiting) {
            if (!s.started) queued.decrementAndGet();
            failGroup(s, error);
        }
        waiting.clear();
        publishStats();
    }

    private void cancelEverything() {
        lock.lock();
        try {
            closed = true;
            waiting.addAll(inbox);
            inbox.clear();
        } finally {
            lock.unlock();
        }
        for (Sequence s : running) cancelGroup(s);
        running.clear();
        for (Sequence s : waiting) {
            if (!s.started) queued.decrementAndGet();
            cancelGroup(s);
        }
        waiting.clear();
        publishStats();
    }

    // ---- plumbing --------------------------------------------------------------------------------------------

    private void drainInbox() {
        lock.lock();
        try {
            waiting.addAll(inbox);
            inbox.clear();
        } finally {
            lock.unlock();
        }
    }

    private void wakeUp() {
        lock.lock();
        try {
            wakeRequested = true;
            wake.signal();
        } finally {
            lock.unlock();
        }
    }

    private void awaitWork() {
        lock.lock();
        try {
            while (inbox.isEmpty() && !wakeRequested && !closed) wake.await();
            wakeRequested = false;
        } catch (InterruptedException e) {
            closed = true;
            Thread.currentThread().interrupt();
        } finally {
            lock.unlock();
        }
    }

    private void publishStats() {
        stats = new EngineStats(queued.get(), running.size(), blocks.totalBlocks(), blocks.usedBlocks(),
                blocks.freeBlocks(), blocks.cachedBlocks(), blocks.prefixQueryTokens(), blocks.prefixHitTokens(),
                promptTokens, generatedTokens, preemptions, guessedTokens, keptGuesses);
    }

    private int retryAfterSeconds(int queueLength) {
        double gap = finishGapNanos;
        if (Double.isNaN(gap)) return 1;
        double seconds = Math.ceil(queueLength * gap / 1e9);
        return (int) Math.max(1, Math.min(60, seconds));
    }

    private void validate(GenerationRequest r, List<GenerationListener> listeners) {
        if (listeners == null || listeners.isEmpty()) throw new IllegalArgumentException("at least one listener is needed");
        for (GenerationListener l : listeners) {
            if (l == null) throw new IllegalArgumentException("listeners must not be null");
        }
        int[] prompt = r.prompt();
        if (prompt.length > contextLength) {
            throw new IllegalArgumentException("prompt has " + prompt.length + " tokens but the context length is " + contextLength);
        }
        for (int p = 0; p < prompt.length; p++) {
            if (prompt[p] < 0 || prompt[p] >= vocab) {
                throw new IllegalArgumentException("prompt token " + prompt[p] + " at position " + p
                        + " is outside the vocabulary (size " + vocab + ")");
            }
        }
        if (r.logprobs() < -1 || r.logprobs() > Logprobs.MAX_TOP) {
            throw new IllegalArgumentException("logprobs must be between -1 (none) and " + Logprobs.MAX_TOP + ", got " + r.logprobs());
        }
    }

    /** Sequence {@code i} of a seeded request samples with {@code seed + i}: distinct, reproducible streams. */
    private static SamplingParams seedFor(SamplingParams p, int i) {
        if (i == 0 || p.seed() == null) return p;
        return new SamplingParams(p.temperature(), p.topP(), p.topK(), p.minP(), p.presencePenalty(),
                p.frequencyPenalty(), p.repetitionPenalty(), p.logitBias(), p.seed() + i);
    }
}
