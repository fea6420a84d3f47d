package dev.quill.server.serving;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.quill.server.protocol.ExtraParameters;
import dev.quill.server.protocol.Json;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.ToIntFunction;

/**
 * Real requests a server sends to itself before it announces that it is serving: one streamed completion alone, four
 * at once, a streamed chat completion and a plain one, per deployment. The engine's kernel warm-up compiles the
 * kernels on a miniature model; what is left — the scheduler, sampling over the real vocabulary, the chat template,
 * JSON and SSE writing, Jetty — would otherwise be compiled by the JIT during the first clients' requests, which
 * ran one-stream load 10% slower and four-stream load several percent slower (docs/performance.md, session 9).
 *
 * <p>Requests carry the server's warm-up token, so they need no API key and stay out of the request metrics. A
 * deployment's warm-up stops at its time budget (requests still running are abandoned, which cancels them); a
 * request that fails is only reported. Nothing here can stop the server from serving.
 */
final class ServingWarmup {

    /** Roughly a hundred tokens of plain English for most vocabularies: a prompt like a client's. */
    private static final String TEXT = "The river ran along the edge of the old town, past the mill and the market "
            + "square, where the traders set out their stalls every morning before the bells rang. Children followed "
            + "the carts down to the water, and the fishermen, mending their nets in the sun, told them stories of "
            + "storms and of the great fish that nobody had ever caught. In the evening the lamps were lit one by one, "
            + "and the whole street smelled of bread.";
    private static final int MAX_TOKENS = 64;
    /** What each prompt starts with ("Story 12. "), counted when fitting the text to a short context. */
    private static final String PREFIX = "Story 00. ";
    private static final int TOGETHER = 4;

    /**
     * How one deployment's warm-up went.
     *
     * @param firstFailure what the first failed request got (status and the start of the body, or the exception), or null
     */
    record Outcome(int requests, int failed, long millis, boolean cutShort, String firstFailure) {}

    private ServingWarmup() {}

    /**
     * Warms the serving path of the deployment named {@code deployment} through the server at {@code base}.
     *
     * @param header the warm-up header's name and the server's token, sent with every request
     */
    static Outcome run(URI base, String header, String token, String deployment, int maxConcurrent, Duration budget) {
        return run(base, header, token, deployment, maxConcurrent, budget, Integer.MAX_VALUE, text -> 0);
    }

    /**
     * As {@link #run(URI, String, String, String, int, Duration)} for a model of {@code contextLength} tokens: the
     * prompts are cut (whole words, counted with {@code tokens}) to at most a third of it and the outputs to a quarter,
     * so that a model with a short context is warmed up too (a chat template adds its own tokens).
     */
    static Outcome run(URI base, String header, String token, String deployment, int maxConcurrent, Duration budget,
                       int contextLength, ToIntFunction<String> tokens) {
        String text = fitted(contextLength / 3, tokens);
        int maxTokens = Math.max(1, Math.min(MAX_TOKENS, contextLength / 4));
        long start = System.nanoTime();
        long deadline = start + budget.toNanos();
        int together = maxConcurrent > 0 ? Math.min(TOGETHER, maxConcurrent) : TOGETHER;
        int requests = 0;
        int failed = 0;
        String firstFailure = null;
        boolean cutShort = false;
        try (HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build()) {
            List<List<HttpRequest>> phases = List.of(
                    List.of(completion(base, header, token, deployment, text, 0, true, maxTokens)),
                    together(base, header, token, deployment, text, 1, together, maxTokens),
                    List.of(chat(base, header, token, deployment, text, together + 1, true, Math.max(1, maxTokens / 4)),
                            chat(base, header, token, deployment, text, together + 2, false, Math.max(1, maxTokens / 4))));
            for (List<HttpRequest> phase : phases) {
                List<CompletableFuture<HttpResponse<String>>> sent = new ArrayList<>();
                for (HttpRequest r : phase) sent.add(client.sendAsync(r, HttpResponse.BodyHandlers.ofString()));
                requests += sent.size();
                for (CompletableFuture<HttpResponse<String>> f : sent) {
                    long left = deadline - System.nanoTime();
                    try {
                        HttpResponse<String> response = f.get(Math.max(0, left), TimeUnit.NANOSECONDS);
                        if (response.statusCode() != 200) {
                            failed++;
                            if (firstFailure == null) {
                                String body = response.body();
                                firstFailure = "HTTP " + response.statusCode() + " "
                                        + (body.length() > 300 ? body.substring(0, 300) + "…" : body);
                            }
                        }
                    } catch (TimeoutException e) {
                        cutShort = true;
                    } catch (ExecutionException e) {
                        failed++;
                        if (firstFailure == null) firstFailure = String.valueOf(e.getCause());
                    }
                }
                if (cutShort) {
                    sent.forEach(f -> f.cancel(true));
                    client.shutdownNow(); // closes the connections, so the server cancels what is still generating
                    break;
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            cutShort = true;
        }
        return new Outcome(requests, failed, (System.nanoTime() - start) / 1_000_000, cutShort, firstFailure);
    }

    /** {@code n} streamed completions of distinct prompts (variants {@code first} ...), sent at once. */
    private static List<HttpRequest> together(URI base, String header, String token, String deployment, String text,
                                              int first, int n, int maxTokens) {
        List<HttpRequest> out = new ArrayList<>();
        for (int i = first; i < first + n; i++) out.add(completion(base, header, token, deployment, text, i, true, maxTokens));
        return out;
    }

    /** The longest start of {@link #TEXT}, in whole words, of at most {@code limit} tokens (at least one word). */
    static String fitted(int limit, ToIntFunction<String> tokens) {
        String[] words = TEXT.split(" ");
        StringBuilder text = new StringBuilder(words[0]);
        for (int i = 1; i < words.length; i++) {
            String longer = text + " " + words[i];
            if (tokens.applyAsInt(PREFIX + longer) > limit) break;
            text.setLength(0);
            text.append(longer);
        }
        return text.toString();
    }

    /** A completion of a prompt made distinct by its first word, so that its prefill runs (no cached prefix). */
    private static HttpRequest completion(URI base, String header, String token, String deployment, String text,
                                          int variant, boolean stream, int maxTokens) {
        ObjectNode body = Json.MAPPER.createObjectNode();
        body.put("model", deployment);
        body.put("prompt", "Story " + variant + ". " + text);
        body.put("max_tokens", maxTokens);
        body.put("temperature", 0);
        body.put("stream", stream);
        body.put("ignore_eos", true);
        body.put("context_length_exceeded_behavior", "truncate");
        return post(base.resolve("/v1/completions"), header, token, deployment, body);
    }

    private static HttpRequest chat(URI base, String header, String token, String deployment, String text, int variant,
                                    boolean stream, int maxTokens) {
        ObjectNode body = Json.MAPPER.createObjectNode();
        body.put("model", deployment);
        body.putArray("messages").addObject().put("role", "user").put("content", "Story " + variant + ". " + text);
        body.put("max_tokens", maxTokens);
        body.put("stream", stream);
        body.put("context_length_exceeded_behavior", "truncate");
        return post(base.resolve("/v1/chat/completions"), header, token, deployment, body);
    }

    private static HttpRequest post(URI uri, String header, String token, String deployment, ObjectNode body) {
        return HttpRequest.newBuilder(uri)
                .header("Content-Type", "application/json")
                .header(header, token)
                .header(Deployments.DEPLOYMENT_HEADER, deployment)
                .header(ExtraParameters.HEADER, "pass-through")
                .POST(HttpRequest.BodyPublishers.ofString(Json.write(body)))
                .build();
    }
}
