package dev.quill.server.serving;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.JsonNode;
import dev.quill.engine.GenerationRequest;
import dev.quill.engine.grammar.Grammar;
import dev.quill.engine.TokenLogprob;
import dev.quill.engine.tokenizer.Tokenizer;
import dev.quill.server.protocol.ApiException;
import dev.quill.server.protocol.ChatCompletionChunk;
import dev.quill.server.protocol.ChatCompletionRequest;
import dev.quill.server.protocol.ChatCompletionResponse;
import dev.quill.server.protocol.ChatLogprobs;
import dev.quill.server.protocol.ChatMessage;
import dev.quill.server.protocol.GenerationOptions;
import dev.quill.server.protocol.Json;
import dev.quill.server.protocol.Tool;
import dev.quill.server.protocol.Usage;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** {@code POST /v1/chat/completions}: a conversation in, the assistant's next message out (whole or streamed). */
final class ChatService {

    private ChatService() {}

    static ChatCompletionResponse serve(Deployment d, ChatCompletionRequest request, Responder responder) {
        long start = System.nanoTime();
        GenerationOptions o = request.options();
        Tokenizer tokenizer = d.tokenizer();
        RequestSettings.checkAgainstModel(o, d);
        if (!o.tools().isEmpty() && o.toolChoice().mode().equals("auto") && !d.chatFormatter().showsTools()) {
            // The Azure page: tools "Returns a 422 error if the tool is not supported by the model".
            throw ApiException.invalid(List.of("body", "tools"), null, "Model '" + d.name() + "' cannot decide to call "
                    + "tools: its chat template does not show them to it (tool_choice auto). Send tool_choice 'required' "
                    + "or name a function to have a call written by constrained decoding, or 'none'.");
        }
        ContentFilter filter = d.config().contentFilter();
        for (int i = 0; i < request.messages().size(); i++) {
            ChatMessage message = request.messages().get(i);
            for (ChatMessage.ContentPart part : message.content() == null ? List.<ChatMessage.ContentPart>of() : message.content()) {
                if (!part.isText()) {
                    throw ApiException.invalid(part.loc(), part.type(), "Model '" + d.name() + "' is text-only; the "
                            + part.type() + " content part at " + dev.quill.server.protocol.Loc.param(part.loc()) + " is not supported");
                }
                filter.checkPrompt(part.text(), part.loc());
            }
            for (int k = 0; k < message.toolCalls().size(); k++) {
                filter.checkPrompt(message.toolCalls().get(k).arguments(), List.of("body", "messages", i, "tool_calls", k, "function", "arguments"));
            }
        }
        String text = d.renderChat(templateContext(request, tokenizer));
        Boolean addSpecial = o.extensions().addSpecialTokens();
        int[] prompt = tokenizer.encode(text, addSpecial != null && addSpecial, true);
        if (prompt.length == 0) throw ApiException.invalid(List.of("body", "messages"), null, "The conversation renders to an empty prompt");
        int maxTokens = RequestSettings.maxTokens(o, -1, prompt.length, d.contextLength(), List.of("body", "messages"));

        Grammar grammar = StructuredOutput.forChat(o, d.chatFormatter().toolCallFormat());
        int candidates = o.candidates();
        int engineLogprobs = request.logprobs() ? request.topLogprobs() : candidates > o.n() ? 0 : -1;
        GenerationRequest g = new GenerationRequest(prompt, RequestSettings.sampling(o), maxTokens, engineLogprobs,
                false, Set.copyOf(o.extensions().stopTokenIds()), o.extensions().ignoreEos(), grammar)
                .withPrediction(RequestSettings.predictedTokens(tokenizer, o))
                .withCachedPrefix(o.extensions().cachePrompt());
        boolean toolCalls = callsTools(o);
        List<SequenceOutput> outputs = new ArrayList<>();
        List<AssistantOutput> messages = new ArrayList<>();
        for (int j = 0; j < candidates; j++) {
            // Tool-call markers may be special tokens (Mistral's [TOOL_CALLS]): the parser must see their text.
            outputs.add(new SequenceOutput(tokenizer, o.stop(), o.extensions().includeStopStrInOutput(),
                    o.extensions().skipSpecialTokens() && !toolCalls, RequestSettings.terminators(tokenizer, o),
                    d.config().contentFilter()));
            messages.add(toolCalls ? assistantWithTools(d, o) : AssistantOutput.plain());
        }
        List<Generation.Group> groups = List.of(new Generation.Group(0, g, outputs));
        String id = RequestSettings.newId("chatcmpl-");
        long created = System.currentTimeMillis() / 1000;
        Map<String, String> headers = RequestSettings.headers(id, o.ignoredParams());
        Set<Integer> userStops = Set.copyOf(o.extensions().stopTokenIds());
        long deadline = RequestSettings.deadline(o, start);
        String fingerprint = d.info().fingerprint();

        if (!o.stream()) {
            List<Generation.Result> results = Generation.run(d.engine(), groups, userStops, deadline, new Generation.Observer() {});
            responder.headers(headers);
            List<Generation.Result> best = candidates > o.n()
                    ? results.stream().sorted(Comparator.comparingDouble(Generation.Result::meanLogprob).reversed()).limit(o.n()).toList()
                    : results;
            List<ChatCompletionResponse.Choice> choices = new ArrayList<>();
            int completionTokens = 0;
            for (Generation.Result r : results) completionTokens += r.completionTokens;
            for (int k = 0; k < best.size(); k++) {
                Generation.Result r = best.get(k);
                ChatLogprobs lp = request.logprobs() ? logprobs(tokenizer, r.tokens) : null;
                AssistantOutput message = messages.get(results.indexOf(r));
                message.accept(r.text.toString());
                message.finish();
                choices.add(new ChatCompletionResponse.Choice(k, message.message(), lp, message.finishReason(r.finishReason), r.stopReason));
            }
            Usage usage = Usage.of(results.getFirst().promptTokens, completionTokens, results.getFirst().cachedPromptTokens);
            return new ChatCompletionResponse(id, ChatCompletionResponse.OBJECT, created, d.name(), fingerprint, choices, usage);
        }

        SseStream sse = responder.openStream(headers);
        if (o.includeUsage()) sse.announceUsage();
        try {
            for (int s = 0; s < candidates; s++) {
                sse.send(chunk(id, created, d.name(), fingerprint, s, new ChatCompletionChunk.Delta("assistant", ""), null, null, null, null));
            }
            int[] completionTokens = {0};
            int[] finished = {0};
            List<Generation.Result> results = Generation.run(d.engine(), groups, userStops, deadline, new Generation.Observer() {
                @Override
                public void piece(int seq, SequenceOutput.Piece piece, Generation.Result result) {
                    ChatLogprobs lp = null;
                    if (request.logprobs()) {
                        lp = logprobs(tokenizer, result.tokens.subList(result.tokens.size() - piece.tokens().size(), result.tokens.size()));
                    }
                    List<ChatCompletionChunk.Delta> deltas = messages.get(seq).accept(piece.text());
                    if (deltas.isEmpty() && lp != null) deltas = List.of(new ChatCompletionChunk.Delta(null, null));
                    for (int k = 0; k < deltas.size(); k++) {
                        // The piece's logprobs go with its first chunk.
                        sse.send(chunk(id, created, d.name(), fingerprint, seq, deltas.get(k), k == 0 ? lp : null, null, null, null));
                    }
                }

                @Override
                public void finished(int seq, Generation.Result result) {
                    for (ChatCompletionChunk.Delta last : messages.get(seq).finish()) {
                        sse.send(chunk(id, created, d.name(), fingerprint, seq, last, null, null, null, null));
                    }
                    completionTokens[0] += result.completionTokens;
                    finished[0]++;
                    Usage usage = finished[0] == candidates && o.extensions().usageInLastChunk()
                            ? Usage.of(result.promptTokens, completionTokens[0], result.cachedPromptTokens) : null;
                    sse.send(chunk(id, created, d.name(), fingerprint, seq, new ChatCompletionChunk.Delta(null, null), null,
                            messages.get(seq).finishReason(result.finishReason), result.stopReason, usage));
                }
            });
            if (o.includeUsage()) {
                int total = 0;
                for (Generation.Result r : results) total += r.completionTokens;
                sse.send(new ChatCompletionChunk(id, ChatCompletionChunk.OBJECT, created, d.name(), fingerprint, List.of(),
                        Usage.of(results.getFirst().promptTokens, total, results.getFirst().cachedPromptTokens)));
            }
            sse.done();
        } catch (ApiException e) {
            sse.fail(e);
        }
        return null;
    }

    /** The model may call tools: the request has tools and tool_choice is not none. */
    static boolean callsTools(GenerationOptions o) {
        return !o.tools().isEmpty() && !o.toolChoice().mode().equals("none");
    }

    /** A message parsed for tool calls in the model's format; parallel_tool_calls: false allows one call. */
    private static AssistantOutput assistantWithTools(Deployment d, GenerationOptions o) {
        Set<String> functions = new HashSet<>();
        for (Tool tool : o.tools()) functions.add(tool.name());
        int maxCalls = Boolean.FALSE.equals(o.parallelToolCalls()) ? 1 : Integer.MAX_VALUE;
        return AssistantOutput.withTools(d.chatFormatter().toolCallFormat(), functions, maxCalls,
                !o.toolChoice().mode().equals("auto"));
    }

    private static ChatCompletionChunk chunk(String id, long created, String model, String fingerprint, int index,
                                             ChatCompletionChunk.Delta delta, ChatLogprobs lp, String finish,
                                             Object stopReason, Usage usage) {
        return new ChatCompletionChunk(id, ChatCompletionChunk.OBJECT, created, model, fingerprint,
                List.of(new ChatCompletionChunk.Choice(index, delta, lp, finish, stopReason)), usage);
    }

    static ChatLogprobs logprobs(Tokenizer tokenizer, List<SequenceOutput.Emitted> tokens) {
        List<ChatLogprobs.TokenLogprob> content = new ArrayList<>();
        for (SequenceOutput.Emitted e : tokens) {
            List<ChatLogprobs.TopLogprob> top = new ArrayList<>();
            for (TokenLogprob alt : e.token().topLogprobs()) {
                top.add(new ChatLogprobs.TopLogprob(TokenText.display(tokenizer, alt.id()), TokenText.finite(alt.logprob()),
                        TokenText.bytes(tokenizer, alt.id())));
            }
            int id = e.token().id();
            content.add(new ChatLogprobs.TokenLogprob(TokenText.display(tokenizer, id), TokenText.finite(e.token().logprob()),
                    TokenText.bytes(tokenizer, id), top));
        }
        return ChatLogprobs.of(content);
    }

    /** The variables Hugging Face chat templates read. */
    static Map<String, Object> templateContext(ChatCompletionRequest request, Tokenizer tokenizer) {
        List<Map<String, Object>> messages = new ArrayList<>();
        for (ChatMessage m : request.messages()) {
            Map<String, Object> message = new LinkedHashMap<>();
            message.put("role", m.role());
            message.put("content", m.text());
            if (m.name() != null) message.put("name", m.name());
            if (!m.toolCalls().isEmpty()) {
                List<Map<String, Object>> calls = new ArrayList<>();
                for (ChatMessage.ToolCall call : m.toolCalls()) {
                    // Key order matters: templates print these maps with tojson.
                    Map<String, Object> function = new LinkedHashMap<>();
                    function.put("name", call.name());
                    function.put("arguments", arguments(call.arguments()));
                    Map<String, Object> entry = new LinkedHashMap<>();
                    entry.put("id", call.id());
                    entry.put("type", "function");
                    entry.put("function", function);
                    calls.add(entry);
                }
                message.put("tool_calls", calls);
            }
            if (m.toolCallId() != null) message.put("tool_call_id", m.toolCallId());
            messages.add(message);
        }
        Map<String, Object> context = new HashMap<>();
        context.put("messages", messages);
        GenerationOptions o = request.options();
        if (callsTools(o)) {
            List<Map<String, Object>> tools = new ArrayList<>();
            for (Tool tool : o.tools()) {
                Map<String, Object> function = new LinkedHashMap<>();
                function.put("name", tool.name());
                if (tool.description() != null) function.put("description", tool.description());
                if (tool.parameters() != null) function.put("parameters", toMap(tool.parameters()));
                Map<String, Object> entry = new LinkedHashMap<>();
                entry.put("type", "function");
                entry.put("function", function);
                tools.add(entry);
            }
            context.put("tools", tools);
        }
        context.put("add_generation_prompt", true);
        context.put("bos_token", tokenizer.bosId() >= 0 ? tokenizer.tokenPiece(tokenizer.bosId()) : "");
        context.put("eos_token", tokenizer.eosId() >= 0 ? tokenizer.tokenPiece(tokenizer.eosId()) : "");
        return context;
    }

    /** Templates index into arguments as a mapping when the JSON is an object; anything else stays text. */
    private static Object arguments(String json) {
        try {
            JsonNode node = Json.MAPPER.readTree(json);
            return node != null && node.isObject() ? toMap(node) : json;
        } catch (Exception notJson) {
            return json;
        }
    }

    private static Map<String, Object> toMap(JsonNode node) {
        return Json.MAPPER.convertValue(node, new TypeReference<Map<String, Object>>() {});
    }
}
