package dev.quill.server.serving;

import dev.quill.engine.Engine;
import dev.quill.engine.FinishReason;
import dev.quill.engine.GeneratedToken;
import dev.quill.engine.GenerationHandle;
import dev.quill.engine.GenerationListener;
import dev.quill.engine.GenerationRequest;
import dev.quill.engine.QueueFullException;
import dev.quill.server.protocol.ApiException;
import dev.quill.server.protocol.ErrorKind;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs the sequences of one request on the engine. Engine callbacks only enqueue events (they run on an engine
 * thread and must not block); the request's own thread drains the queue, feeds each sequence's
 * {@link SequenceOutput}, cancels a sequence whose stop string or blocked term matched, and reports progress to an
 * {@link Observer} (the SSE writer when streaming). Leaving {@link #run} for any reason cancels whatever is still
 * generating.
 */
final class Generation {

    private static final Logger LOG = LoggerFactory.getLogger(Generation.class);

    /**
     * The sequences that continue one prompt (n or best_of of them): submitted together so the engine computes the
     * prompt once; with a seed, sequence i samples with seed + i. Sequences are numbered across groups in order.
     */
    record Group(int promptIndex, GenerationRequest request, List<SequenceOutput> outputs) {}

    /** Progress of a run, on the request thread. */
    interface Observer {
        default void promptLogprobs(int seq, List<GeneratedToken> tokens) {}

        default void piece(int seq, SequenceOutput.Piece piece, Result result) {}

        default void finished(int seq, Result result) {}
    }

    /**
     * What the server follows of a run (acceptance for held streams and shutdown, token times for metrics), bound to
     * {@link #WATCHER} by the HTTP layer for the duration of one request; all calls come from the request's thread.
     */
    interface Watcher {
        Watcher NONE = new Watcher() {};

        /** The engine queued every sequence; these handles cancel them. */
        default void accepted(List<GenerationHandle> handles) {}

        /** The engine refused the request (queue full, or it does not fit the model); nothing runs. */
        default void refused(ApiException refusal) {}

        default void token(int seq) {}

        /** Sequence {@code seq} ended normally. */
        default void finished(int seq) {}

        /** Every sequence ended normally. */
        default void completed() {}

        /** What to throw when the engine reports a sequence cancelled that the run did not cancel itself. */
        default RuntimeException cancellation() {
            return ApiException.of(ErrorKind.UNAVAILABLE, "Generation was cancelled: the server is shutting down");
        }
    }

    static final ScopedValue<Watcher> WATCHER = ScopedValue.newInstance();

    /** Everything one sequence produced. */
    static final class Result {
        final StringBuilder text = new StringBuilder();
        /** Released tokens with their start offsets in {@link #text}. */
        final List<SequenceOutput.Emitted> tokens = new ArrayList<>();
        List<GeneratedToken> promptLogprobs;
        String finishReason;
        Object stopReason;
        int promptTokens;
        int completionTokens;
        int cachedPromptTokens;
        double logprobSum;
        int logprobCount;

        boolean done() {
            return finishReason != null;
        }

        /**
         * Mean logprob of the sampled tokens, the stop token included (an empty answer is one unlikely stop token, not
         * a perfect score): how best_of ranks candidates. A candidate with no scored token at all ranks last.
         */
        double meanLogprob() {
            return logprobCount == 0 ? Double.NEGATIVE_INFINITY : logprobSum / logprobCount;
        }

        void addLogprob(float logprob) {
            if (!Float.isFinite(logprob)) return;
            logprobSum += logprob;
            logprobCount++;
        }

        void append(SequenceOutput.Piece piece) {
            int base = text.length();
            for (SequenceOutput.Emitted e : piece.tokens()) {
                tokens.add(new SequenceOutput.Emitted(e.token(), base + e.start()));
            }
            text.append(piece.text());
        }
    }

    private sealed interface Event {
        int seq();
    }

    private record PromptLogprobs(int seq, List<GeneratedToken> tokens) implements Event {}

    private record Token(int seq, GeneratedToken token) implements Event {}

    private record Finished(int seq, FinishReason reason, int stopTokenId, float stopTokenLogprob, int promptTokens,
                            int generatedTokens, int cachedPromptTokens) implements Event {}

    private record Failed(int seq, Throwable error) implements Event {}

    private Generation() {}

    /**
     * Generates every sequence to its end.
     *
     * @param userStopTokenIds stop_token_ids from the request: a stop on one of them is reported as stop_reason
     * @param deadlineNanos    {@link System#nanoTime()} by which everything must be done, or {@link Long#MAX_VALUE}
     */
    static List<Result> run(Engine engine, List<Group> groups, Set<Integer> userStopTokenIds, long deadlineNanos,
                            Observer observer) {
        BlockingQueue<Event> events = new LinkedBlockingQueue<>();
        List<GenerationHandle> handles = new ArrayList<>();
        List<SequenceOutput> outputs = new ArrayList<>();
        List<GenerationRequest> requests = new ArrayList<>();
        for (Group g : groups) {
            outputs.addAll(g.outputs());
            for (int i = 0; i < g.outputs().size(); i++) requests.add(g.request());
        }
        List<Result> results = new ArrayList<>(outputs.size());
        for (int i = 0; i < outputs.size(); i++) results.add(new Result());
        int remaining = outputs.size();
        Watcher watcher = WATCHER.orElse(Watcher.NONE);
        try {
            try {
                for (Group g : groups) handles.addAll(submit(engine, g, handles.size(), events));
            } catch (ApiException refusal) {
                watcher.refused(refusal);
                throw refusal;
            }
            watcher.accepted(List.copyOf(handles));
            while (remaining > 0) {
                long wait = deadlineNanos - System.nanoTime();
                Event event = wait <= 0 ? events.poll() : events.poll(wait, TimeUnit.NANOSECONDS);
                if (event == null) throw timeout();
                Result result = results.get(event.seq());
                if (result.done()) continue; // late events of a sequence we already stopped
                SequenceOutput output = outputs.get(event.seq());
                switch (event) {
                    case PromptLogprobs p -> {
                        result.promptLogprobs = p.tokens();
                        observer.promptLogprobs(p.seq(), p.tokens());
                    }
                    case Token t -> {
                        watcher.token(t.seq());
                        result.addLogprob(t.token().logprob());
                        SequenceOutput.Piece piece = output.accept(t.token());
                        result.append(piece);
                        if (!piece.isEmpty()) observer.piece(t.seq(), piece, result);
                        if (output.ended()) {
                            handles.get(t.seq()).cancel();
                            result.promptTokens = requests.get(t.seq()).prompt().length;
                            result.completionTokens = output.generated();
                            if (output.filtered()) {
                                finish(result, ContentFilter.CONTENT_FILTER, null);
                            } else {
                                finish(result, "stop", output.matchedStop());
                            }
                            remaining--;
                            watcher.finished(t.seq());
                            observer.finished(t.seq(), result);
                        }
                    }
                    case Finished f -> {
                        if (f.reason() == FinishReason.CANCELLED) throw watcher.cancellation();
                        result.addLogprob(f.stopTokenLogprob());
                        SequenceOutput.Piece piece = output.finish();
                        result.append(piece);
                        if (!piece.isEmpty()) observer.piece(f.seq(), piece, result);
                        result.promptTokens = f.promptTokens();
                        result.completionTokens = Math.max(f.generatedTokens(), output.generated());
                        result.cachedPromptTokens = f.cachedPromptTokens();
                        if (f.reason() == FinishReason.LENGTH) {
                            finish(result, "length", null);
                        } else {
                            finish(result, "stop", userStopTokenIds.contains(f.stopTokenId()) ? f.stopTokenId() : null);
                        }
                        remaining--;
                        watcher.finished(f.seq());
                        observer.finished(f.seq(), result);
                    }
                    case Failed e -> {
                        LOG.error("generation failed", e.error());
                        throw ApiException.of(ErrorKind.INTERNAL, "Generation failed inside the engine; see the server log");
                    }
                }
            }
            watcher.completed();
            return results;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw ApiException.of(ErrorKind.UNAVAILABLE, "The request was interrupted: the server is shutting down");
        } finally {
            for (int i = 0; i < handles.size(); i++) {
                if (!results.get(i).done()) handles.get(i).cancel();
            }
        }
    }

    private static void finish(Result result, String reason, Object stopReason) {
        result.finishReason = reason;
        result.stopReason = stopReason;
    }

    private static ApiException timeout() {
        return new ApiException(ErrorKind.REQUEST_TIMEOUT, "timeout",
                "The request did not finish within its timeout; generation was stopped", null, null, null);
    }

    /** Submits a group; its sequences get the numbers {@code first}, {@code first + 1}, .... */
    private static List<GenerationHandle> submit(Engine engine, Group group, int first, BlockingQueue<Event> events) {
        List<GenerationListener> listeners = new ArrayList<>();
        for (int i = 0; i < group.outputs().size(); i++) listeners.add(listener(first + i, events));
        try {
            return engine.submit(group.request(), listeners);
        } catch (QueueFullException e) {
            throw new ApiException(ErrorKind.TOO_MANY_REQUESTS, "too_many_requests",
                    "The model's queue is full; retry in " + e.retryAfterSeconds() + " s", null, null,
                    java.util.Map.of("Retry-After", String.valueOf(e.retryAfterSeconds())));
        } catch (IllegalArgumentException e) {
            throw ApiException.invalid(List.of("body"), null, "The engine refused the request: " + e.getMessage());
        }
    }

    private static GenerationListener listener(int seq, BlockingQueue<Event> events) {
        return new GenerationListener() {
            @Override
            public void onPromptLogprobs(List<GeneratedToken> promptTokens) {
                events.add(new PromptLogprobs(seq, promptTokens));
            }

            @Override
            public void onToken(GeneratedToken token) {
                events.add(new Token(seq, token));
            }

            @Override
            public void onFinish(FinishReason reason, int stopTokenId, float stopTokenLogprob, int promptTokens,
                                 int generatedTokens, int cachedPromptTokens) {
                events.add(new Finished(seq, reason, stopTokenId, stopTokenLogprob, promptTokens, generatedTokens,
                        cachedPromptTokens));
            }

            @Override
            public void onError(Throwable error) {
                events.add(new Failed(seq, error));
            }
        };
    }
}
