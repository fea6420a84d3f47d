package dev.quill.server.serving;

import dev.quill.engine.sampling.SamplingParams;
import dev.quill.engine.tokenizer.Tokenizer;
import dev.quill.server.protocol.ApiException;
import dev.quill.server.protocol.Extensions;
import dev.quill.server.protocol.GenerationOptions;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** What completions and chat both derive from the shared request fields once a deployment is chosen. */
final class RequestSettings {

    static final String IGNORED_PARAMS_HEADER = "x-quill-ignored-params";

    private RequestSettings() {}

    /** The checks that need the model: modalities, token ids in range. */
    static void checkAgainstModel(GenerationOptions o, Deployment d) {
        if (o.modalities() != null) {
            int audio = o.modalities().indexOf("audio");
            if (audio >= 0) {
                throw ApiException.invalid(List.of("body", "modalities", audio), "audio",
                        "Model '" + d.name() + "' produces text only; the audio modality is not supported");
            }
        }
        if (o.audio() != null) {
            throw ApiException.invalid(List.of("body", "audio"), o.audio(),
                    "Model '" + d.name() + "' produces text only; audio output parameters are not supported");
        }
        int vocab = d.tokenizer().vocabSize();
        for (Integer id : o.logitBias().keySet()) {
            if (id >= vocab) {
                throw ApiException.invalid(List.of("body", "logit_bias", String.valueOf(id)), String.valueOf(id),
                        "token id " + id + " is outside the vocabulary (size " + vocab + ")");
            }
        }
        List<Integer> stopIds = o.extensions().stopTokenIds();
        for (int i = 0; i < stopIds.size(); i++) {
            if (stopIds.get(i) >= vocab) {
                throw ApiException.invalid(List.of("body", "stop_token_ids", i), stopIds.get(i),
                        "token id " + stopIds.get(i) + " is outside the vocabulary (size " + vocab + ")");
            }
        }
    }

    /** Sampling for a prompt's sequences (the engine gives sequence i of a seeded group the seed seed + i). */
    static SamplingParams sampling(GenerationOptions o) {
        Extensions x = o.extensions();
        return new SamplingParams(
                o.temperature() == null ? 1.0 : o.temperature(),
                o.topP() == null ? 1.0 : o.topP(),
                o.topK(),
                x.minP() == null ? 0 : x.minP(),
                o.presencePenalty() == null ? 0 : o.presencePenalty(),
                o.frequencyPenalty() == null ? 0 : o.frequencyPenalty(),
                x.repetitionPenalty() == null ? 1 : x.repetitionPenalty(),
                o.logitBias(),
                o.seed());
    }

    /**
     * Tokens to generate for a prompt: the request's max_tokens, which must fit the context unless the client asked
     * for truncation (then it is lowered to fit), or else {@code fallback} (-1 meaning "the rest of the context"),
     * lowered to fit.
     */
    static int maxTokens(GenerationOptions o, int fallback, int promptLength, int contextLength, List<Object> promptLoc) {
        if (promptLength > contextLength) {
            throw ApiException.badRequest("context_length_exceeded", "The prompt is " + promptLength
                    + " tokens long; the model's context holds " + contextLength, promptLoc, null);
        }
        int room = contextLength - promptLength;
        if (o.maxTokens() == null) return fallback < 0 ? room : Math.min(fallback, room);
        int wanted = o.maxTokens();
        if (wanted > room && !o.truncateToContext()) {
            String field = o.maxTokensField();
            throw ApiException.badRequest("context_length_exceeded", "The prompt (" + promptLength + " tokens) plus "
                    + field + " (" + wanted + ") exceeds the model's context of " + contextLength + " tokens; lower "
                    + field + " or send context_length_exceeded_behavior: truncate", List.of("body", field), wanted);
        }
        return Math.min(wanted, room);
    }

    /** Tokens whose text never appears in output because they end the sequence. */
    static Set<Integer> terminators(Tokenizer tokenizer, GenerationOptions o) {
        Set<Integer> ids = new HashSet<>(o.extensions().stopTokenIds());
        if (!o.extensions().ignoreEos()) ids.addAll(tokenizer.endOfGenerationIds());
        return ids;
    }

    static long deadline(GenerationOptions o, long startNanos) {
        if (o.timeoutSeconds() == null) return Long.MAX_VALUE;
        return startNanos + (long) (o.timeoutSeconds() * 1e9);
    }

    static Map<String, String> headers(String id, List<String> ignored) {
        Map<String, String> headers = new LinkedHashMap<>();
        headers.put("x-request-id", id);
        if (!ignored.isEmpty()) headers.put(IGNORED_PARAMS_HEADER, String.join(", ", ignored));
        return headers;
    }

    static String newId(String prefix) {
        return prefix + java.util.UUID.randomUUID().toString().replace("-", "");
    }

    /**
     * The tokens of the request's predicted output ({@code prediction}), empty without one: the engine guesses from
     * them while it decodes alone or with one other, which never changes the output, only how fast it comes.
     */
    static int[] predictedTokens(Tokenizer tokenizer, GenerationOptions o) {
        return o.prediction() == null || o.prediction().isEmpty() ? new int[0] : tokenizer.encode(o.prediction(), false, false);
    }
}
