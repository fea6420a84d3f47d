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
import java.util.Locale;
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
    record Outcome(int requests, int failed, long millis, boolean cutShort, String firstFailure) {
        /** The line {@code serve} prints. */
        String summary(String deployment, Duration budget) {
            return "warmed up serving " + deployment + " in " + seconds(millis) + " s (" + requests + " requests"
                    + (failed > 0 ? ", " + failed + " failed" : "")
                    + (cutShort ? ", stopped at the " + seconds(budget.toMillis()) + " s budget" : "") + ")";
        }

        private static String seconds(long millis) {
            return String.format(Locale.ROOT, "%.1f", millis / 1000.0);
        }
    }

    private ServingWarmup() {}

    /**
     * Warms the serving path of the deployment named {@code deployment}, a model of {@code contextLength} tokens,
     * through the server at {@code base}. The prompts are cut (whole words, counted with {@code tokens}) to at most a
     * third of the context and the outputs to a quarter, so that a model with a short context is warmed up too (a chat
     * template adds its own tokens).
     *
     * @param header the warm-up header's name and the server's token, sent with every request
     */
    static Outcome run(URI base, String header, String token, String deployment, int maxConcurrent, Duration budget,
                       int contextLength, ToIntFunction<String> tokens) {
        Requests make = new Requests(base, header, token, deployment, fitted(contextLength / 3, tokens));
        int maxTokens = Math.max(1, Math.min(MAX_TOKENS, contextLength / 4));
        long start = System.nanoTime();
        long deadline = start + budget.toNanos();
        int together = maxConcurrent > 0 ? Math.min(TOGETHER, maxConcurrent) : TOGETHER;
        int requests = 0;
        int failed = 0;
        String firstFailure = null;
        boolean cutShort = false;
        try (HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build()) {
            List<HttpRequest> atOnce = new ArrayList<>();
            for (int i = 1; i <= together; i++) atOnce.add(make.completion(i, true, maxTokens));
            List<List<HttpRequest>> phases = List.of(
                    List.of(make.completion(0, true, maxTokens)),
                    atOnce,
                    List.of(make.chat(together + 1, true, Math.max(1, maxTokens / 4)),
                            make.chat(together + 2, false, Math.max(1, maxTokens / 4))));
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

    /** The warm-up's requests to one deployment: prompts of {@code text}, each made distinct by its first words. */
    private record Requests(URI base, String header, String token, String deployment, String text) {

        /** A completion whose prompt no other request shares, so that its prefill runs (no cached prefix). */
        HttpRequest completion(int variant, boolean stream, int maxTokens) {
            ObjectNode body = Json.MAPPER.createObjectNode();
            body.put("model", deployment);
            body.put("prompt", "Story " + variant + ". " + text);
            body.put("max_tokens", maxTokens);
            body.put("temperature", 0);
            body.put("stream", stream);
            body.put("ignore_eos", true);
            body.put("context_length_exceeded_behavior", "truncate");
            return post("/v1/completions", body);
        }

        HttpRequest chat(int variant, boolean stream, int maxTokens) {
            ObjectNode body = Json.MAPPER.createObjectNode();
            body.put("model", deployment);
            body.putArray("messages").addObject().put("role", "user").put("content", "Story " + variant + ". " + text);
            body.put("max_tokens", maxTokens);
            body.put("stream", stream);
            body.put("context_length_exceeded_behavior", "truncate");
            return post("/v1/chat/completions", body);
        }

        private HttpRequest post(String path, ObjectNode body) {
            return HttpRequest.newBuilder(base.resolve(path))
                    .header("Content-Type", "application/json")
                    .header(header, token)
                    .header(Deployments.DEPLOYMENT_HEADER, deployment)
                    .header(ExtraParameters.HEADER, "pass-through")
                    .POST(HttpRequest.BodyPublishers.ofString(Json.write(body)))
                    .build();
        }
    }
}
