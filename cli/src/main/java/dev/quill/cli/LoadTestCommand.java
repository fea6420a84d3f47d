package dev.quill.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.PrintWriter;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Stream;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code quill loadtest}: drives a running server the way the shared {@code load.py} does — for each concurrency C
 * and round, C clients start together and each sends one streaming {@code POST /v1/completions} (temperature 0,
 * {@code ignore_eos}, {@code cache_prompt} false so that a repeated run computes its prompts again, usage in the last
 * chunk) — and prints per round and in summary: aggregate generated tokens/s
 * (all tokens over the round's wall time, first start to last end), per-stream tokens/s, decode tokens/s after the
 * first token, and time to first token p50/p95 (linear interpolation, as load.py computes it). The shared script
 * stays the yardstick; this one needs no Python, but it is a JVM on the same cores, warming up too.
 */
@Command(name = "loadtest", mixinStandardHelpOptions = true,
        description = "Measure a running server under concurrent streaming completions (like ../shared/bench/load.py).")
public final class LoadTestCommand implements Callable<Integer> {

    @Spec CommandSpec spec;

    @Option(names = "--url", defaultValue = "http://127.0.0.1:8080", description = "server address (default: ${DEFAULT-VALUE})")
    String url;

    @Option(names = "--model", required = true, description = "model (deployment) name to request")
    String model;

    @Option(names = "--concurrency", defaultValue = "1,4,16", split = ",", description = "concurrent streams per test (default: ${DEFAULT-VALUE})")
    int[] concurrency;

    @Option(names = "--rounds", defaultValue = "3", description = "rounds per concurrency (default: ${DEFAULT-VALUE})")
    int rounds;

    @Option(names = "--max-tokens", defaultValue = "64", description = "tokens per request (default: ${DEFAULT-VALUE})")
    int maxTokens;

    @Option(names = "--prompt", description = "the prompt text (default: a short paragraph)")
    String prompt;

    @Option(names = "--prompt-file", paramLabel = "FILE", description = "read the prompt from a file")
    Path promptFile;

    @Option(names = "--distinct", description = "give every request a different first word, so no two share a prompt prefix")
    boolean distinct;

    @Option(names = "--warmup", defaultValue = "3",
            description = "untimed requests before measuring, for the server's JIT and this client's (default: ${DEFAULT-VALUE})")
    int warmup;

    @Option(names = "--timeout", defaultValue = "600", description = "seconds a request may take (default: ${DEFAULT-VALUE})")
    int timeoutSeconds;

    static final String DEFAULT_PROMPT = "The old lighthouse keeper climbed the spiral stairs every evening at dusk, "
            + "carrying a lantern and a small notebook. In it he wrote the color of the sky, the direction of the wind, "
            + "and the names of passing ships.";

    private static final ObjectMapper JSON = new ObjectMapper();

    /** One request's measurements; times in seconds from the test's start. */
    record Sample(double start, double end, double ttft, int generated, String error) {

        double e2e() {
            return end - start;
        }
    }

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        if (rounds < 1 || maxTokens < 1 || warmup < 0 || timeoutSeconds < 1
                || concurrency.length == 0 || Arrays.stream(concurrency).anyMatch(c -> c < 1)) {
            err.println("loadtest: --concurrency values, --rounds, --max-tokens and --timeout must be at least 1");
            return 2;
        }
        String text;
        try {
            text = promptFile != null ? Files.readString(promptFile).strip() : prompt != null ? prompt : DEFAULT_PROMPT;
        } catch (IOException e) {
            err.println("loadtest: cannot read " + promptFile + ": " + e.getMessage());
            return 2;
        }
        URI endpoint;
        try {
            endpoint = URI.create(url.replaceAll("/+$", "") + "/v1/completions");
        } catch (IllegalArgumentException e) {
            err.println("loadtest: not a URL: " + url);
            return 2;
        }
        HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(Duration.ofSeconds(10)).build();
        long origin = System.nanoTime();
        for (int i = 0; i < warmup; i++) {
            Sample s = request(client, endpoint, body(text, "warmup-" + i), origin);
            if (s.error() != null) {
                err.println("loadtest: warm-up request failed: " + s.error());
                return 1;
            }
        }
        out.printf(Locale.ROOT, "%4s %5s %7s %7s %9s %12s %12s %11s %11s%n", "conc", "round", "wall_s", "gen_tok",
                "agg_tok/s", "stream_tok/s", "decode_tok/s", "ttft_p50_ms", "ttft_p95_ms");
        List<String> summary = new ArrayList<>();
        int salt = 0;
        for (int c : concurrency) {
            List<Sample> all = new ArrayList<>();
            double[] aggregates = new double[rounds];
            for (int r = 0; r < rounds; r++) {
                List<Sample> samples = round(client, endpoint, text, c, ++salt, origin);
                all.addAll(samples);
                aggregates[r] = aggregate(samples);
                out.printf(Locale.ROOT, "%4d %5d %7.2f %7d %9.2f %12.2f %12.2f %11.0f %11.0f%n", c, r, wall(samples),
                        samples.stream().mapToInt(Sample::generated).sum(), aggregates[r], Stats.mean(streamRates(samples)),
                        Stats.mean(decodeRates(samples)), Stats.percentile(ttftsMs(samples), 50), Stats.percentile(ttftsMs(samples), 95));
                out.flush();
                int round = r;
                samples.stream().filter(s -> s.error() != null).findFirst()
                        .ifPresent(s -> err.println("loadtest: " + c + " streams, round " + round + ": " + s.error()));
            }
            long incomplete = all.stream().filter(s -> s.error() != null || s.generated() != maxTokens).count();
            summary.add(String.format(Locale.ROOT, "%4d %9.2f ± %-6.2f %12.2f %12.2f %11.0f %11.0f %10d", c,
                    Stats.mean(aggregates), Stats.sd(aggregates), Stats.mean(streamRates(all)), Stats.mean(decodeRates(all)),
                    Stats.percentile(ttftsMs(all), 50), Stats.percentile(ttftsMs(all), 95), incomplete));
        }
        out.println();
        out.println("# summary");
        out.printf(Locale.ROOT, "%4s %18s %12s %12s %11s %11s %10s%n", "conc", "agg_tok/s", "stream_tok/s", "decode_tok/s",
                "ttft_p50_ms", "ttft_p95_ms", "incomplete");
        summary.forEach(out::println);
        out.flush();
        return 0;
    }

    private String body(String text, String tag) {
        ObjectNode b = JSON.createObjectNode();
        b.put("model", model);
        b.put("prompt", distinct ? "Request " + tag + ": " + text : text);
        b.put("max_tokens", maxTokens);
        b.put("temperature", 0);
        b.put("stream", true);
        b.putObject("stream_options").put("include_usage", true);
        b.put("ignore_eos", true);
        b.put("cache_prompt", false);
        return b.toString();
    }

    /** C clients released together, one request each. */
    private List<Sample> round(HttpClient client, URI endpoint, String text, int c, int salt, long origin) throws Exception {
        CountDownLatch go = new CountDownLatch(1);
        try (ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
            List<Future<Sample>> futures = new ArrayList<>();
            for (int i = 0; i < c; i++) {
                String body = body(text, salt + "-" + i);
                futures.add(pool.submit(() -> {
                    go.await();
                    return request(client, endpoint, body, origin);
                }));
            }
            go.countDown();
            List<Sample> samples = new ArrayList<>();
            for (Future<Sample> f : futures) samples.add(f.get());
            return samples;
        }
    }

    /** One streaming request: TTFT at the first event carrying a choice, tokens from the usage in the last events. */
    private Sample request(HttpClient client, URI endpoint, String body, long origin) {
        double start = seconds(origin);
        HttpRequest request = HttpRequest.newBuilder(endpoint).timeout(Duration.ofSeconds(timeoutSeconds))
                .header("Content-Type", "application/json").header("extra-parameters", "pass-through")
                .POST(HttpRequest.BodyPublishers.ofString(body)).build();
        double ttft = Double.NaN;
        int events = 0;
        int generated = -1;
        try {
            HttpResponse<Stream<String>> response = client.send(request, HttpResponse.BodyHandlers.ofLines());
            try (Stream<String> lines = response.body()) {
                if (response.statusCode() != 200) {
                    String text = String.join("\n", lines.limit(20).toList());
                    return new Sample(start, seconds(origin), Double.NaN, 0, "HTTP " + response.statusCode() + ": " + text);
                }
                for (Iterator<String> it = lines.iterator(); it.hasNext(); ) {
                    String line = it.next().strip();
                    if (!line.startsWith("data:")) continue;
                    String data = line.substring(5).strip();
                    if (data.equals("[DONE]")) break;
                    JsonNode event = JSON.readTree(data);
                    if (event.has("error")) {
                        return new Sample(start, seconds(origin), ttft, 0, "stream error: " + event.get("error"));
                    }
                    JsonNode choices = event.path("choices");
                    if (choices.isArray() && !choices.isEmpty()) {
                        events++;
                        if (Double.isNaN(ttft)) ttft = seconds(origin) - start;
                    }
                    JsonNode usage = event.path("usage");
                    if (usage.has("completion_tokens")) generated = usage.get("completion_tokens").asInt();
                }
            }
        } catch (IOException e) {
            return new Sample(start, seconds(origin), ttft, 0, e.getClass().getSimpleName() + ": " + e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return new Sample(start, seconds(origin), ttft, 0, "interrupted");
        }
        return new Sample(start, seconds(origin), ttft, generated >= 0 ? generated : events, null);
    }

    private static double seconds(long origin) {
        return (System.nanoTime() - origin) / 1e9;
    }

    static double wall(List<Sample> samples) {
        double first = samples.stream().mapToDouble(Sample::start).min().orElse(0);
        double last = samples.stream().mapToDouble(Sample::end).max().orElse(0);
        return last - first;
    }

    static double aggregate(List<Sample> samples) {
        double wall = wall(samples);
        return wall > 0 ? samples.stream().mapToInt(Sample::generated).sum() / wall : 0;
    }

    static double[] streamRates(List<Sample> samples) {
        return samples.stream().filter(s -> s.e2e() > 0).mapToDouble(s -> s.generated() / s.e2e()).toArray();
    }

    static double[] decodeRates(List<Sample> samples) {
        return samples.stream().filter(s -> !Double.isNaN(s.ttft()) && s.generated() > 1 && s.e2e() > s.ttft())
                .mapToDouble(s -> (s.generated() - 1) / (s.e2e() - s.ttft())).toArray();
    }

    static double[] ttftsMs(List<Sample> samples) {
        return samples.stream().filter(s -> !Double.isNaN(s.ttft())).mapToDouble(s -> s.ttft() * 1000).toArray();
    }
}
