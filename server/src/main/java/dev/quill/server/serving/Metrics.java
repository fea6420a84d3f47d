package dev.quill.server.serving;

import dev.quill.engine.Engine;
import dev.quill.engine.EngineStats;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.ToDoubleFunction;

/**
 * The server's meters, served at {@code GET /metrics} in the Prometheus text format (version 0.0.4).
 *
 * <p>Engine figures (queue, running sequences, KV blocks, token counters, prefix-cache hits) are read from
 * {@link Engine#stats()} at scrape time, so they cost nothing between scrapes. Request latencies are histograms with
 * fixed buckets chosen for LLM serving, labelled by deployment: time to first token (request arrival to the first
 * generated token), time per output token (per sequence: the mean gap between its tokens after the first) and
 * end-to-end latency (arrival to the complete response, for requests that generated to their end).
 */
public final class Metrics implements AutoCloseable {

    /** The Prometheus text exposition format that {@link #scrape()} writes. */
    public static final String CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

    private static final Duration[] TIME_TO_FIRST_TOKEN_BUCKETS = seconds(
            0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1, 1.5, 2, 2.5, 5, 7.5, 10, 20, 40, 80);
    private static final Duration[] TIME_PER_OUTPUT_TOKEN_BUCKETS = seconds(
            0.0025, 0.005, 0.0075, 0.01, 0.015, 0.02, 0.025, 0.03, 0.04, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.5, 0.75, 1, 2.5);
    private static final Duration[] END_TO_END_BUCKETS = seconds(
            0.1, 0.25, 0.5, 1, 2.5, 5, 10, 15, 20, 30, 40, 50, 60, 120, 240, 480, 960);

    private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    private final JvmGcMetrics gc = new JvmGcMetrics();
    private final Map<String, LatencyMeters> latencies = new HashMap<>();

    /** Registers the JVM's meters and, for each deployment, its engine's gauges and its latency histograms. */
    public Metrics(Deployments deployments) {
        new JvmMemoryMetrics().bindTo(registry);
        new JvmThreadMetrics().bindTo(registry);
        new ProcessorMetrics().bindTo(registry);
        new UptimeMetrics().bindTo(registry);
        gc.bindTo(registry);
        for (Deployment d : deployments.all()) {
            bindEngine(registry, d.name(), d.engine());
            latencies.put(d.name(), new LatencyMeters(registry, d.name()));
        }
    }

    /** The current exposition in the Prometheus text format ({@link #CONTENT_TYPE}). */
    public String scrape() {
        return registry.scrape();
    }

    /** Counts one answered HTTP request; {@code endpoint} is the route's pattern, never the raw path. */
    void requestAnswered(String endpoint, String method, int status) {
        Counter.builder("quill.requests")
                .description("HTTP requests answered, by route, method and status")
                .tags("endpoint", endpoint, "method", method, "status", Integer.toString(status))
                .register(registry)
                .increment();
    }

    /** Starts timing one generation request of a deployment; the clock starts now. */
    RequestTiming startRequest(String deployment, long arrivalNanos) {
        LatencyMeters meters = latencies.get(deployment);
        if (meters == null) throw new IllegalArgumentException("no deployment '" + deployment + "' to time");
        return new RequestTiming(meters, arrivalNanos);
    }

    @Override
    public void close() {
        gc.close();
        registry.close();
    }

    private static void bindEngine(MeterRegistry registry, String deployment, Engine engine) {
        gauge(registry, "quill.queued.requests", "Requests accepted by the engine and waiting to start", deployment, engine,
                EngineStats::queued);
        gauge(registry, "quill.running.sequences", "Sequences the engine is computing (prefill or decode)", deployment,
                engine, EngineStats::running);
        blocks(registry, deployment, engine, "used", "referenced by sequences", EngineStats::kvBlocksUsed);
        blocks(registry, deployment, engine, "free", "holding nothing", EngineStats::kvBlocksFree);
        blocks(registry, deployment, engine, "cached", "unreferenced, kept for prefix reuse", EngineStats::kvBlocksCached);
        gauge(registry, "quill.prefix.cache.hit.ratio", "Prompt tokens found in the prefix cache over prompt tokens "
                + "looked up there, since start (0 before the first lookup)", deployment, engine, Metrics::hitRatio);
        counter(registry, "quill.prefix.cache.queried.tokens", "Prompt tokens looked up in the prefix cache", deployment,
                engine, EngineStats::prefixQueryTokens);
        counter(registry, "quill.prefix.cache.hit.tokens", "Prompt tokens found in the prefix cache (prefill skipped)",
                deployment, engine, EngineStats::prefixHitTokens);
        counter(registry, "quill.prompt.tokens", "Prompt tokens of started requests", deployment, engine,
                EngineStats::promptTokens);
        counter(registry, "quill.generated.tokens", "Tokens sampled", deployment, engine, EngineStats::generatedTokens);
        counter(registry, "quill.preemptions", "Running sequences evicted from the KV cache to make room (recomputed later)",
                deployment, engine, EngineStats::preemptions);
        counter(registry, "quill.speculative.guessed", "Draft tokens verified by speculative decoding",
                deployment, engine, EngineStats::guessedTokens);
        counter(registry, "quill.speculative.kept", "Draft tokens the model agreed with (a decode step saved each)",
                deployment, engine, EngineStats::keptGuesses);
    }

    static double hitRatio(EngineStats s) {
        return s.prefixQueryTokens() == 0 ? 0 : (double) s.prefixHitTokens() / s.prefixQueryTokens();
    }

    private static void gauge(MeterRegistry registry, String name, String description, String deployment, Engine engine,
                              ToDoubleFunction<EngineStats> value) {
        Gauge.builder(name, engine, e -> value.applyAsDouble(e.stats()))
                .description(description).tag("deployment", deployment).strongReference(true).register(registry);
    }

    private static void blocks(MeterRegistry registry, String deployment, Engine engine, String state, String meaning,
                               ToDoubleFunction<EngineStats> value) {
        Gauge.builder("quill.kv.cache.blocks", engine, e -> value.applyAsDouble(e.stats()))
                .description("KV cache blocks by state: used (referenced by sequences), free (holding nothing), "
                        + "cached (unreferenced, kept for prefix reuse); the three add up to all blocks")
                .tags("deployment", deployment, "state", state).strongReference(true).register(registry);
    }

    private static void counter(MeterRegistry registry, String name, String description, String deployment, Engine engine,
                                ToDoubleFunction<EngineStats> value) {
        FunctionCounter.builder(name, engine, e -> value.applyAsDouble(e.stats()))
                .description(description).tag("deployment", deployment).register(registry);
    }

    private static Duration[] seconds(double... bounds) {
        Duration[] out = new Duration[bounds.length];
        for (int i = 0; i < bounds.length; i++) out[i] = Duration.ofNanos(Math.round(bounds[i] * 1e9));
        return out;
    }

    /**
     * The latencies of one generation request, fed from its own thread as its tokens arrive. Not thread-safe: one
     * request, one thread.
     */
    static final class RequestTiming {
        private final LatencyMeters meters;
        private final long arrivalNanos;
        private boolean firstTokenSeen;
        /** Per sequence: nanoTime of its first and latest token, and its token count. */
        private final Map<Integer, long[]> sequences = new HashMap<>();

        RequestTiming(LatencyMeters meters, long arrivalNanos) {
            this.meters = meters;
            this.arrivalNanos = arrivalNanos;
        }

        /** Sequence {@code seq} produced a token at {@code nowNanos}. */
        void token(int seq, long nowNanos) {
            if (!firstTokenSeen) {
                firstTokenSeen = true;
                meters.timeToFirstToken.record(nowNanos - arrivalNanos, TimeUnit.NANOSECONDS);
            }
            long[] t = sequences.computeIfAbsent(seq, k -> new long[] {nowNanos, nowNanos, 0});
            t[1] = nowNanos;
            t[2]++;
        }

        /** Sequence {@code seq} ended normally (length, stop token or stop string). */
        void sequenceFinished(int seq) {
            long[] t = sequences.remove(seq);
            if (t == null || t[2] < 2) return; // no gap between tokens to measure
            meters.timePerOutputToken.record((t[1] - t[0]) / (t[2] - 1), TimeUnit.NANOSECONDS);
        }

        /** The whole response was produced at {@code nowNanos}. */
        void completed(long nowNanos) {
            meters.endToEnd.record(nowNanos - arrivalNanos, TimeUnit.NANOSECONDS);
        }
    }

    /** A deployment's latency histograms. */
    static final class LatencyMeters {
        final Timer timeToFirstToken;
        final Timer timePerOutputToken;
        final Timer endToEnd;

        LatencyMeters(MeterRegistry registry, String deployment) {
            timeToFirstToken = histogram(registry, "quill.time.to.first.token",
                    "From the request's arrival to its first generated token", deployment, TIME_TO_FIRST_TOKEN_BUCKETS);
            timePerOutputToken = histogram(registry, "quill.time.per.output.token",
                    "Per sequence: mean time between its generated tokens after the first", deployment,
                    TIME_PER_OUTPUT_TOKEN_BUCKETS);
            endToEnd = histogram(registry, "quill.e2e.request.latency",
                    "From the request's arrival to its complete response (requests that generated to their end)",
                    deployment, END_TO_END_BUCKETS);
        }

        private static Timer histogram(MeterRegistry registry, String name, String description, String deployment,
                                       Duration[] buckets) {
            return Timer.builder(name).description(description).tag("deployment", deployment)
                    .serviceLevelObjectives(buckets).register(registry);
        }
    }
}
