package dev.quill.server.serving;

import static org.assertj.core.api.Assertions.assertThat;

import dev.quill.engine.Engine;
import dev.quill.engine.EngineStats;
import dev.quill.engine.GenerationHandle;
import dev.quill.engine.GenerationListener;
import dev.quill.engine.GenerationRequest;
import dev.quill.engine.ModelInfo;
import dev.quill.engine.tokenizer.Tokenizer;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class MetricsTest {

    /** The fake engine with figures the test sets. */
    static final class StatsEngine implements Engine {
        final FakeEngine fake = new FakeEngine();
        volatile EngineStats stats = new EngineStats(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0);

        @Override
        public ModelInfo info() {
            return fake.info();
        }

        @Override
        public Tokenizer tokenizer() {
            return fake.tokenizer();
        }

        @Override
        public List<GenerationHandle> submit(GenerationRequest request, List<GenerationListener> listeners) {
            return fake.submit(request, listeners);
        }

        @Override
        public EngineStats stats() {
            return stats;
        }

        @Override
        public void close() {
            fake.close();
        }
    }

    private final StatsEngine engine = new StatsEngine();
    private final Metrics metrics = new Metrics(new Deployments(List.of(
            new Deployment(ServerConfig.DeploymentConfig.of("alpha", Path.of("alpha.gguf")), engine))));

    @AfterEach
    void close() {
        metrics.close();
    }

    /** The value of the one sample named {@code series} with exactly these labels. */
    static double sample(String exposition, String series) {
        Matcher m = Pattern.compile("(?m)^" + Pattern.quote(series) + " (\\S+)$").matcher(exposition);
        if (!m.find()) throw new AssertionError("no sample " + series + " in:\n" + exposition);
        return Double.parseDouble(m.group(1));
    }

    @Test
    void engineFiguresAreReadAtScrapeTime() {
        engine.stats = new EngineStats(3, 2, 10, 4, 5, 1, 200, 50, 300, 700, 2, 0, 0);
        String first = metrics.scrape();
        assertThat(sample(first, "quill_queued_requests{deployment=\"alpha\"}")).isEqualTo(3);
        assertThat(sample(first, "quill_running_sequences{deployment=\"alpha\"}")).isEqualTo(2);
        assertThat(sample(first, "quill_kv_cache_blocks{deployment=\"alpha\",state=\"used\"}")).isEqualTo(4);
        assertThat(sample(first, "quill_kv_cache_blocks{deployment=\"alpha\",state=\"free\"}")).isEqualTo(5);
        assertThat(sample(first, "quill_kv_cache_blocks{deployment=\"alpha\",state=\"cached\"}")).isEqualTo(1);
        assertThat(sample(first, "quill_prefix_cache_hit_ratio{deployment=\"alpha\"}")).isEqualTo(0.25);
        assertThat(sample(first, "quill_prefix_cache_queried_tokens_total{deployment=\"alpha\"}")).isEqualTo(200);
        assertThat(sample(first, "quill_prefix_cache_hit_tokens_total{deployment=\"alpha\"}")).isEqualTo(50);
        assertThat(sample(first, "quill_prompt_tokens_total{deployment=\"alpha\"}")).isEqualTo(300);
        assertThat(sample(first, "quill_generated_tokens_total{deployment=\"alpha\"}")).isEqualTo(700);
        assertThat(sample(first, "quill_preemptions_total{deployment=\"alpha\"}")).isEqualTo(2);

        engine.stats = new EngineStats(0, 1, 10, 1, 5, 4, 400, 300, 500, 900, 2, 0, 0);
        String second = metrics.scrape();
        assertThat(sample(second, "quill_queued_requests{deployment=\"alpha\"}")).isZero();
        assertThat(sample(second, "quill_kv_cache_blocks{deployment=\"alpha\",state=\"cached\"}")).isEqualTo(4);
        assertThat(sample(second, "quill_prefix_cache_hit_ratio{deployment=\"alpha\"}")).isEqualTo(0.75);
        assertThat(sample(second, "quill_generated_tokens_total{deployment=\"alpha\"}")).isEqualTo(900);
    }

    @Test
    void theHitRatioIsZeroBeforeAnyLookup() {
        assertThat(sample(metrics.scrape(), "quill_prefix_cache_hit_ratio{deployment=\"alpha\"}")).isZero();
    }

    @Test
    void answeredRequestsAreCountedByRouteMethodAndStatus() {
        metrics.requestAnswered("/v1/completions", "POST", 200);
        metrics.requestAnswered("/v1/completions", "POST", 200);
        metrics.requestAnswered("/v1/completions", "POST", 429);
        String text = metrics.scrape();
        assertThat(sample(text, "quill_requests_total{endpoint=\"/v1/completions\",method=\"POST\",status=\"200\"}")).isEqualTo(2);
        assertThat(sample(text, "quill_requests_total{endpoint=\"/v1/completions\",method=\"POST\",status=\"429\"}")).isEqualTo(1);
    }

    @Test
    void aRequestsTimingsGoToItsDeploymentsHistograms() {
        long ms = 1_000_000;
        long t0 = 1_000 * ms;
        Metrics.RequestTiming timing = metrics.startRequest("alpha", t0);
        // Two sequences: the request's first token comes 80 ms after arrival.
        timing.token(0, t0 + 80 * ms);
        timing.token(1, t0 + 90 * ms);
        timing.token(0, t0 + 100 * ms);
        timing.token(0, t0 + 140 * ms); // sequence 0: 3 tokens, 2 gaps over 60 ms => 30 ms per token
        timing.token(1, t0 + 98 * ms);  // sequence 1: 2 tokens, 1 gap of 8 ms
        timing.sequenceFinished(0);
        timing.sequenceFinished(1);
        timing.completed(t0 + 150 * ms);

        String text = metrics.scrape();
        String ttft = "quill_time_to_first_token_seconds";
        assertThat(sample(text, ttft + "_count{deployment=\"alpha\"}")).isEqualTo(1);
        assertThat(sample(text, ttft + "_sum{deployment=\"alpha\"}")).isCloseTo(0.08, org.assertj.core.data.Offset.offset(1e-9));
        assertThat(sample(text, ttft + "_bucket{deployment=\"alpha\",le=\"0.075\"}")).isZero();
        assertThat(sample(text, ttft + "_bucket{deployment=\"alpha\",le=\"0.1\"}")).isEqualTo(1);

        String tpot = "quill_time_per_output_token_seconds";
        assertThat(sample(text, tpot + "_count{deployment=\"alpha\"}")).isEqualTo(2);
        assertThat(sample(text, tpot + "_sum{deployment=\"alpha\"}")).isCloseTo(0.038, org.assertj.core.data.Offset.offset(1e-9));
        assertThat(sample(text, tpot + "_bucket{deployment=\"alpha\",le=\"0.01\"}")).isEqualTo(1);
        assertThat(sample(text, tpot + "_bucket{deployment=\"alpha\",le=\"0.03\"}")).isEqualTo(2);

        String e2e = "quill_e2e_request_latency_seconds";
        assertThat(sample(text, e2e + "_count{deployment=\"alpha\"}")).isEqualTo(1);
        assertThat(sample(text, e2e + "_bucket{deployment=\"alpha\",le=\"0.1\"}")).isZero();
        assertThat(sample(text, e2e + "_bucket{deployment=\"alpha\",le=\"0.25\"}")).isEqualTo(1);
    }

    @Test
    void aSequenceWithOneTokenHasNoTimePerOutputToken() {
        Metrics.RequestTiming timing = metrics.startRequest("alpha", 0);
        timing.token(0, 5_000_000);
        timing.sequenceFinished(0);
        assertThat(sample(metrics.scrape(), "quill_time_per_output_token_seconds_count{deployment=\"alpha\"}")).isZero();
    }

    @Test
    void theExpositionIsPrometheusTextWithHelpAndType() {
        String text = metrics.scrape();
        assertThat(text).contains("# TYPE quill_time_to_first_token_seconds histogram");
        assertThat(text).contains("# TYPE quill_generated_tokens_total counter");
        assertThat(text).contains("# TYPE quill_kv_cache_blocks gauge");
        assertThat(text).contains("# HELP quill_running_sequences ");
        assertThat(text).contains("jvm_memory_used_bytes");
    }
}
