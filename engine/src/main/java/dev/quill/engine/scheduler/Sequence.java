package dev.quill.engine.scheduler;

import dev.quill.engine.GenerationHandle;
import dev.quill.engine.GenerationListener;
import dev.quill.engine.GenerationRequest;
import dev.quill.engine.grammar.GrammarMatcher;
import dev.quill.engine.sampling.Logprobs;
import dev.quill.engine.sampling.Sampler;
import dev.quill.engine.tokenizer.Tokenizer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * One output stream: its tokens (prompt then generated), how many of them have KV in the cache, its blocks, and the
 * per-sequence state that makes its output independent of everything else in the batch (its own sampler and RNG,
 * its own detokenizer). All fields but the two flags belong to the engine thread.
 */
final class Sequence implements GenerationHandle {

    final GenerationRequest request;
    final GenerationListener listener;
    final Sampler sampler;
    final Tokenizer.StreamingDecoder decoder;
    /** Where the output stands in the request's grammar; null when unconstrained. */
    final GrammarMatcher grammar;
    final int promptLength;
    final BlockTable blocks = new BlockTable();
    /** Sequences of the same request, forked off this one once the prompt is computed (empty for n = 1). */
    final List<Sequence> followers = new ArrayList<>();
    private final Runnable wakeEngine;

    private int[] tokens;
    private int length;
    /** Leading positions whose KV is in the cache. */
    int computed;
    int generated;
    /** Set when the sequence first starts; preemption and recomputation do not change it. */
    boolean started;
    int cachedPromptTokens;
    /** This sequence's guessing record for speculative decoding. */
    final Speculation speculation = new Speculation();
    /** Logprobs of prompt positions 1.. while they are still to be reported; null when not wanted or sent. */
    Logprobs[] promptLogprobs;

    private volatile boolean cancelRequested;
    private volatile boolean done;

    Sequence(GenerationRequest request, GenerationListener listener, Sampler sampler,
             Tokenizer.StreamingDecoder decoder, GrammarMatcher grammar, Runnable wakeEngine) {
        this.request = request;
        this.listener = listener;
        this.sampler = sampler;
        this.decoder = decoder;
        this.grammar = grammar;
        this.wakeEngine = wakeEngine;
        this.promptLength = request.prompt().length;
        this.tokens = Arrays.copyOf(request.prompt(), promptLength + Math.min(request.maxTokens(), 256) + 1);
        this.length = promptLength;
        if (request.promptLogprobs()) promptLogprobs = new Logprobs[promptLength];
    }

    @Override
    public void cancel() {
        cancelRequested = true;
        wakeEngine.run();
    }

    @Override
    public boolean isDone() {
        return done;
    }

    boolean cancelRequested() {
        return cancelRequested;
    }

    /** This sequence and all its not-yet-forked followers were cancelled: nobody wants the group's work. */
    boolean groupCancelled() {
        if (!cancelRequested) return false;
        for (Sequence f : followers) {
            if (!f.cancelRequested) return false;
        }
        return true;
    }

    void markDone() {
        done = true;
    }

    /** The token array; valid up to {@link #length()}. */
    int[] tokens() {
        return tokens;
    }

    int length() {
        return length;
    }

    void append(int token) {
        if (length == tokens.length) tokens = Arrays.copyOf(tokens, length * 2);
        tokens[length++] = token;
    }

    /** 1 plus the followers still to be forked: how many running places this sequence will take. */
    int groupSize() {
        return 1 + followers.size();
    }

    /**
     * A prefix-cache hit skips prefill, so it is only allowed once no prompt logits are needed any more, and only
     * when the request allows it.
     */
    boolean mayReuseCache() {
        return promptLogprobs == null && request.reuseCachedPrefix();
    }
}
