package dev.quill.server.protocol;

import com.fasterxml.jackson.databind.JsonNode;
import dev.quill.engine.sampling.Logprobs;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Turns a request body into a validated {@link CompletionRequest} or {@link ChatCompletionRequest}: every field's
 * type, range and default, the cross-field rules, and the {@code extra-parameters} policy. Throws a 422
 * {@link ApiException} pointing at the first invalid field. Checks that need the model (vocabulary size, context
 * length, fill-in-the-middle tokens, modalities) are the serving layer's.
 */
public final class RequestParser {

    /** Requests fan out to prompts × best_of sequences; more than this in one request is refused. */
    public static final int MAX_SEQUENCES = 1024;

    private static final Set<String> COMMON_FIELDS = Set.of("model", "max_tokens", "max_completion_tokens",
            "temperature", "top_p", "top_k", "frequency_penalty", "presence_penalty", "logit_bias", "n", "best_of",
            "seed", "stop", "stream", "stream_options", "user", "timeout", "context_length_exceeded_behavior",
            "response_format", "tools", "tool_choice", "parallel_tool_calls", "modalities", "audio", "prediction",
            "context", "logprobs", "top_logprobs");
    private static final Set<String> COMPLETION_FIELDS = union(COMMON_FIELDS, Set.of("prompt", "echo", "suffix", "images"));
    private static final Set<String> CHAT_FIELDS = union(COMMON_FIELDS, Set.of("messages"));
    private static final Set<String> ROLES = Set.of("system", "developer", "user", "assistant", "tool");
    private static final Set<String> FORMAT_TYPES = Set.of("text", "json_object", "json_schema");
    private static final Set<String> MODALITIES = Set.of("text", "audio");

    private final JsonFields body;
    private final ExtraParameters policy;
    /** Fields dropped or not understood, for the x-quill-ignored-params header. */
    private final List<String> ignored = new ArrayList<>();

    private RequestParser(JsonNode body, ExtraParameters policy) {
        if (body == null || !body.isObject()) {
            throw ApiException.invalid(Loc.of("body"), body, "The request body must be a JSON object");
        }
        this.body = JsonFields.object(body, Loc.of("body"));
        this.policy = policy;
    }

    public static CompletionRequest completion(JsonNode body, ExtraParameters policy) {
        return new RequestParser(body, policy).completion();
    }

    public static ChatCompletionRequest chat(JsonNode body, ExtraParameters policy) {
        return new RequestParser(body, policy).chat();
    }

    private CompletionRequest completion() {
        List<String> extras = extraFields(COMPLETION_FIELDS);
        List<Prompt> prompts = prompts(body.raw("prompt"), body.loc("prompt"));
        boolean echo = body.bool("echo", false);
        String suffix = body.string("suffix");
        List<String> images = stringList(body.raw("images"), body.loc("images"));

        Integer logprobs;
        JsonNode logprobsNode = body.raw("logprobs");
        Integer topLogprobs = body.int32("top_logprobs", 0, Logprobs.MAX_TOP);
        if (logprobsNode != null && logprobsNode.isBoolean()) {
            // The gateway form: logprobs: true plus top_logprobs (0-20, as for chat).
            if (!logprobsNode.booleanValue() && topLogprobs != null) {
                throw ApiException.invalid(body.loc("top_logprobs"), body.node().get("top_logprobs"),
                        "top_logprobs requires logprobs to be true");
            }
            logprobs = logprobsNode.booleanValue() ? (topLogprobs == null ? 0 : topLogprobs) : null;
        } else {
            logprobs = body.int32("logprobs", 0, 5);
            if (topLogprobs != null) {
                throw ApiException.invalid(body.loc("top_logprobs"), body.node().get("top_logprobs"),
                        "top_logprobs is only used with logprobs: true; for completions pass the number as logprobs (0-5)");
            }
        }
        GenerationOptions options = options(0, extras);
        if (Math.max(prompts.size(), 1) * options.candidates() > MAX_SEQUENCES) {
            throw ApiException.invalid(body.loc("prompt"), null, "A request may generate at most " + MAX_SEQUENCES
                    + " sequences; this one asks for " + prompts.size() + " prompts × " + options.candidates());
        }
        return new CompletionRequest(prompts, echo, logprobs, suffix, images, options);
    }

    private ChatCompletionRequest chat() {
        List<String> extras = extraFields(CHAT_FIELDS);
        List<ChatMessage> messages = messages(body.required("messages"), body.loc("messages"));
        boolean logprobs;
        JsonNode logprobsNode = body.raw("logprobs");
        if (logprobsNode == null) {
            logprobs = false;
        } else if (logprobsNode.isBoolean()) {
            logprobs = logprobsNode.booleanValue();
        } else {
            throw ApiException.invalid(body.loc("logprobs"), logprobsNode, "logprobs must be a boolean for chat completions");
        }
        Integer topLogprobs = body.int32("top_logprobs", 0, 20);
        if (topLogprobs != null && !logprobs) {
            throw ApiException.invalid(body.loc("top_logprobs"), body.node().get("top_logprobs"),
                    "top_logprobs requires logprobs to be true");
        }
        return new ChatCompletionRequest(messages, logprobs, topLogprobs == null ? 0 : topLogprobs, options(1, extras));
    }

    /** Applies the extra-parameters policy to the fields outside {@code known}; returns those to pass through. */
    private List<String> extraFields(Set<String> known) {
        List<String> extras = new ArrayList<>();
        body.node().fieldNames().forEachRemaining(name -> {
            if (!known.contains(name)) extras.add(name);
        });
        if (extras.isEmpty()) return extras;
        switch (policy) {
            case ERROR -> {
                String first = extras.getFirst();
                // 400, as both Azure pages say (and as OpenAI answers an unrecognized argument).
                throw new ApiException(ErrorKind.BAD_REQUEST, "extra_parameters",
                        "Extra parameters " + extras + " are not allowed. Send the header 'extra-parameters: drop' to "
                                + "ignore them, or 'extra-parameters: pass-through' to hand them to the model.",
                        body.loc(first), body.node().get(first), null);
            }
            case DROP -> {
                ignored.addAll(extras);
                return List.of();
            }
            case PASS_THROUGH -> {
                return extras;
            }
        }
        throw new IllegalStateException(policy.toString());
    }

    private GenerationOptions options(int minMaxTokens, List<String> passThrough) {
        String model = body.string("model");
        Integer maxTokens = body.int32("max_tokens", minMaxTokens, Integer.MAX_VALUE);
        Integer maxCompletionTokens = body.int32("max_completion_tokens", minMaxTokens, Integer.MAX_VALUE);
        if (maxTokens != null && maxCompletionTokens != null && !maxTokens.equals(maxCompletionTokens)) {
            throw ApiException.invalid(body.loc("max_completion_tokens"), body.node().get("max_completion_tokens"),
                    "max_tokens and max_completion_tokens are the same setting; they differ (" + maxTokens + " and "
                            + maxCompletionTokens + ")");
        }
        String maxTokensField = maxTokens != null ? "max_tokens" : maxCompletionTokens != null ? "max_completion_tokens" : null;
        if (maxTokens == null) maxTokens = maxCompletionTokens;

        Double temperature = body.number("temperature", 0, 2);
        Double topP = body.number("top_p", 0, 1);
        Long topK = body.integer("top_k", -1, Integer.MAX_VALUE);
        Double frequencyPenalty = body.number("frequency_penalty", -2, 2);
        Double presencePenalty = body.number("presence_penalty", -2, 2);
        Map<Integer, Double> logitBias = logitBias(body.raw("logit_bias"), body.loc("logit_bias"));
        int n = body.int32("n", 1, 128) instanceof Integer given ? given : 1;
        Integer bestOf = body.int32("best_of", 1, 20);
        Long seed = body.integer("seed", Long.MIN_VALUE, Long.MAX_VALUE);
        List<String> stop = stop(body.raw("stop"), body.loc("stop"));
        boolean stream = body.bool("stream", false);
        boolean includeUsage = streamOptions(stream);
        if (bestOf != null && bestOf < n) {
            throw ApiException.invalid(body.loc("best_of"), body.node().get("best_of"),
                    "best_of must be at least n (" + n + "), got " + bestOf);
        }
        if (bestOf != null && bestOf > n && stream) {
            throw ApiException.invalid(body.loc("best_of"), body.node().get("best_of"),
                    "best_of cannot be streamed: the best choices are only known when all candidates are done");
        }
        String user = body.string("user");
        Double timeout = timeout();
        String overflow = body.oneOf("context_length_exceeded_behavior", Set.of("truncate", "error"));
        ResponseFormat responseFormat = responseFormat(body.raw("response_format"), body.loc("response_format"));
        List<Tool> tools = tools(body.raw("tools"), body.loc("tools"));
        ToolChoice toolChoice = toolChoice(body.raw("tool_choice"), body.loc("tool_choice"), tools);
        Boolean parallelToolCalls = body.bool("parallel_tool_calls");
        List<String> modalities = modalities(body.raw("modalities"), body.loc("modalities"));
        JsonNode audio = audio(body.raw("audio"), body.loc("audio"));
        String prediction = prediction(body.raw("prediction"), body.loc("prediction"));
        JsonNode guardrailContext = body.raw("context");
        Extensions extensions = extensions(passThrough);
        OutputConstraints constraints = constraints(passThrough, responseFormat, toolChoice);
        return new GenerationOptions(model, maxTokens, maxTokensField, temperature, topP, topK == null ? 0 : (int) Math.max(0, topK),
                frequencyPenalty, presencePenalty, logitBias, n, bestOf, seed, stop, stream, includeUsage, user,
                timeout, "truncate".equals(overflow), responseFormat, tools, toolChoice, parallelToolCalls, modalities,
                audio, prediction, guardrailContext, extensions, constraints, List.copyOf(ignored));
    }

    private boolean streamOptions(boolean stream) {
        JsonNode value = body.raw("stream_options");
        if (value == null) return false;
        List<Object> loc = body.loc("stream_options");
        if (!stream) throw ApiException.invalid(loc, value, "stream_options is only allowed when stream is true");
        JsonFields options = JsonFields.object(value, loc);
        boolean includeUsage = options.bool("include_usage", false);
        ignoreUnread(options);
        return includeUsage;
    }

    private Double timeout() {
        JsonNode value = body.raw("timeout");
        if (value == null) return null;
        double seconds = JsonFields.number(value, body.loc("timeout"), 0, 86_400);
        if (seconds <= 0) throw ApiException.invalid(body.loc("timeout"), value, "timeout must be greater than 0 seconds");
        return seconds;
    }

    private Extensions extensions(List<String> passThrough) {
        if (passThrough.isEmpty()) return Extensions.DEFAULTS;
        Extensions defaults = Extensions.DEFAULTS;
        Double minP = body.number("min_p", 0, 1);
        Double repetitionPenalty = null;
        JsonNode rp = body.raw("repetition_penalty");
        if (rp != null) {
            repetitionPenalty = JsonFields.number(rp, body.loc("repetition_penalty"), 0, 10);
            if (repetitionPenalty <= 0) {
                throw ApiException.invalid(body.loc("repetition_penalty"), rp, "repetition_penalty must be greater than 0");
            }
        }
        boolean ignoreEos = body.bool("ignore_eos", defaults.ignoreEos());
        boolean includeStop = body.bool("include_stop_str_in_output", defaults.includeStopStrInOutput());
        List<Integer> stopTokenIds = new ArrayList<>();
        JsonNode ids = body.raw("stop_token_ids");
        if (ids != null) {
            List<Object> loc = body.loc("stop_token_ids");
            if (!ids.isArray()) throw ApiException.invalid(loc, ids, "stop_token_ids must be an array of token ids");
            for (int i = 0; i < ids.size(); i++) {
                stopTokenIds.add((int) JsonFields.integer(ids.get(i), Loc.append(loc, i), 0, Integer.MAX_VALUE));
            }
        }
        boolean skipSpecial = body.bool("skip_special_tokens", defaults.skipSpecialTokens());
        boolean usageInLastChunk = body.bool("usage_in_last_chunk", defaults.usageInLastChunk());
        Boolean addSpecial = body.bool("add_special_tokens");
        boolean cachePrompt = body.bool("cache_prompt", defaults.cachePrompt());
        for (String name : passThrough) {
            if (!Extensions.NAMES.contains(name) && !OutputConstraints.NAMES.contains(name)) ignored.add(name);
        }
        return new Extensions(minP, repetitionPenalty, ignoreEos, includeStop, List.copyOf(stopTokenIds), skipSpecial,
                usageInLastChunk, addSpecial, cachePrompt);
    }

    /**
     * grammar / regex / choice (pass-through only). One constraint per request: they cannot be combined with each
     * other, with a JSON response_format or with a tool_choice that forces a call.
     */
    private OutputConstraints constraints(List<String> passThrough, ResponseFormat format, ToolChoice toolChoice) {
        List<String> given = passThrough.stream().filter(OutputConstraints.NAMES::contains)
                .filter(name -> !body.node().get(name).isNull()).toList();
        if (given.isEmpty()) return OutputConstraints.NONE;
        String field = given.getFirst();
        List<Object> loc = body.loc(field);
        JsonNode value = body.node().get(field);
        if (given.size() > 1) {
            throw ApiException.invalid(body.loc(given.get(1)), body.node().get(given.get(1)),
                    "Only one of grammar, regex and choice may be given; this request has " + String.join(" and ", given));
        }
        if (!format.type().equals("text")) {
            throw ApiException.invalid(loc, value, field + " cannot be combined with response_format " + format.type());
        }
        if (toolChoice.mode().equals("required") || toolChoice.mode().equals("function")) {
            throw ApiException.invalid(loc, value, field + " cannot be combined with a tool_choice that forces a tool call");
        }
        return switch (field) {
            case "grammar" -> new OutputConstraints(nonEmptyString(value, loc), null, null);
            case "regex" -> new OutputConstraints(null, nonEmptyString(value, loc), null);
            default -> {
                List<String> choice = stringList(value, loc);
                if (choice.isEmpty()) throw ApiException.invalid(loc, value, "choice must hold at least one string");
                yield new OutputConstraints(null, null, List.copyOf(choice));
            }
        };
    }

    private static String nonEmptyString(JsonNode value, List<Object> loc) {
        String s = JsonFields.string(value, loc);
        if (s.isEmpty()) throw ApiException.invalid(loc, value, Loc.param(loc) + " must not be empty");
        return s;
    }

    // ---- prompts and messages ----

    private static List<Prompt> prompts(JsonNode value, List<Object> loc) {
        if (value == null) return List.of();
        if (value.isTextual()) return List.of(new Prompt.Text(value.textValue()));
        if (!value.isArray() || value.isEmpty()) {
            throw ApiException.invalid(loc, value, "prompt must be a string, an array of strings, an array of token ids"
                    + " or an array of token-id arrays" + (value.isArray() ? ", not an empty array" : ""));
        }
        JsonNode first = value.get(0);
        if (!first.isTextual() && !first.isNumber() && !first.isArray()) {
            throw ApiException.invalid(Loc.append(loc, 0), first, "prompt[0] must be a string, a token id or an array of"
                    + " token ids");
        }
        List<Prompt> prompts = new ArrayList<>();
        if (first.isNumber()) {
            prompts.add(new Prompt.Tokens(tokenIds(value, loc), loc));
            return prompts;
        }
        for (int i = 0; i < value.size(); i++) {
            JsonNode element = value.get(i);
            List<Object> elementLoc = Loc.append(loc, i);
            if (first.isTextual() && element.isTextual()) {
                prompts.add(new Prompt.Text(element.textValue()));
            } else if (first.isArray() && element.isArray()) {
                if (element.isEmpty()) throw ApiException.invalid(elementLoc, element, "a token-id prompt must not be empty");
                prompts.add(new Prompt.Tokens(tokenIds(element, elementLoc), elementLoc));
            } else {
                throw ApiException.invalid(elementLoc, element, "every prompt in the array must be of the same kind as the"
                        + " first (" + (first.isTextual() ? "a string" : "a token-id array") + ")");
            }
        }
        return prompts;
    }

    private static int[] tokenIds(JsonNode array, List<Object> loc) {
        int[] ids = new int[array.size()];
        for (int i = 0; i < ids.length; i++) {
            ids[i] = (int) JsonFields.integer(array.get(i), Loc.append(loc, i), 0, Integer.MAX_VALUE);
        }
        return ids;
    }

    private List<ChatMessage> messages(JsonNode value, List<Object> loc) {
        if (!value.isArray()) throw ApiException.invalid(loc, value, "messages must be an array of messages");
        if (value.isEmpty()) throw ApiException.invalid(loc, value, "messages must contain at least one message");
        List<ChatMessage> messages = new ArrayList<>();
        for (int i = 0; i < value.size(); i++) messages.add(message(value.get(i), Loc.append(loc, i)));
        return messages;
    }

    private ChatMessage message(JsonNode value, List<Object> loc) {
        JsonFields m = JsonFields.object(value, loc);
        String role = m.requiredString("role");
        if (!ROLES.contains(role)) {
            throw ApiException.invalid(m.loc("role"), m.node().get("role"),
                    "role must be one of system, user, assistant, tool (or developer), got '" + role + "'");
        }
        if (role.equals("developer")) role = "system";
        JsonNode contentNode = m.raw("content");
        List<ChatMessage.ContentPart> content = contentNode == null ? null : content(contentNode, m.loc("content"));
        String name = m.string("name");
        List<ChatMessage.ToolCall> toolCalls = role.equals("assistant") ? toolCalls(m.raw("tool_calls"), m.loc("tool_calls")) : List.of();
        String toolCallId = null;
        switch (role) {
            case "tool" -> toolCallId = m.requiredString("tool_call_id");
            case "assistant" -> {
                m.string("refusal");
                if (content == null && toolCalls.isEmpty()) {
                    throw ApiException.invalid(m.loc("content"), null, "an assistant message needs content or tool_calls");
                }
            }
            default -> { }
        }
        if (content == null && !role.equals("assistant")) throw ApiException.missing(m.loc("content"));
        ignoreUnread(m);
        return new ChatMessage(role, content, contentNode != null && contentNode.isTextual(), name, toolCalls, toolCallId);
    }

    private List<ChatMessage.ContentPart> content(JsonNode value, List<Object> loc) {
        if (value.isTextual()) return List.of(new ChatMessage.ContentPart("text", value.textValue(), loc));
        if (!value.isArray()) throw ApiException.invalid(loc, value, "content must be a string or an array of content parts");
        List<ChatMessage.ContentPart> parts = new ArrayList<>();
        for (int j = 0; j < value.size(); j++) {
            List<Object> partLoc = Loc.append(loc, j);
            JsonFields part = JsonFields.object(value.get(j), partLoc);
            String type = part.requiredString("type");
            switch (type) {
                case "text" -> {
                    // OpenAI's part carries "text"; the Azure page's content part carries it in "content".
                    String text = part.string("text");
                    if (text == null) text = part.string("content");
                    if (text == null) throw ApiException.missing(part.loc("text"));
                    parts.add(new ChatMessage.ContentPart("text", text, partLoc));
                }
                case "refusal" -> parts.add(new ChatMessage.ContentPart("text", part.requiredString("refusal"), partLoc));
                case "image_url" -> {
                    JsonNode image = part.required("image_url");
                    if (image.isObject()) {
                        JsonFields img = JsonFields.object(image, part.loc("image_url"));
                        img.requiredString("url");
                        img.oneOf("detail", Set.of("auto", "low", "high"));
                        ignoreUnread(img);
                    } else {
                        JsonFields.string(image, part.loc("image_url"));
                    }
                    parts.add(new ChatMessage.ContentPart(type, null, partLoc));
                }
                case "image" -> {
                    // Azure's form: the URL or base64 data in "content" (or "image_url"), optional detail.
                    part.string("content");
                    part.raw("image_url");
                    part.oneOf("detail", Set.of("auto", "low", "high"));
                    parts.add(new ChatMessage.ContentPart(type, null, partLoc));
                }
                case "input_audio", "audio" -> {
                    part.raw("input_audio");
                    part.raw("audio");
                    parts.add(new ChatMessage.ContentPart(type, null, partLoc));
                }
                default -> throw ApiException.invalid(part.loc("type"), part.node().get("type"),
                        "content part type must be text, image_url, image or input_audio, got '" + type + "'");
            }
            ignoreUnread(part);
        }
        return parts;
    }

    private List<ChatMessage.ToolCall> toolCalls(JsonNode value, List<Object> loc) {
        if (value == null) return List.of();
        if (!value.isArray()) throw ApiException.invalid(loc, value, "tool_calls must be an array");
        List<ChatMessage.ToolCall> calls = new ArrayList<>();
        for (int i = 0; i < value.size(); i++) {
            JsonFields call = JsonFields.object(value.get(i), Loc.append(loc, i));
            String id = call.requiredString("id");
            call.oneOf("type", Set.of("function"));
            JsonFields function = JsonFields.object(call.required("function"), call.loc("function"));
            calls.add(new ChatMessage.ToolCall(id, function.requiredString("name"), function.requiredString("arguments")));
            ignoreUnread(function);
            ignoreUnread(call);
        }
        return calls;
    }

    // ---- shared fields ----

    private static List<String> stop(JsonNode value, List<Object> loc) {
        if (value == null) return List.of();
        List<String> stops = new ArrayList<>();
        if (value.isTextual()) {
            stops.add(value.textValue());
        } else if (value.isArray()) {
            if (value.size() > 4) throw ApiException.invalid(loc, value, "stop may hold at most 4 sequences, got " + value.size());
            for (int i = 0; i < value.size(); i++) stops.add(JsonFields.string(value.get(i), Loc.append(loc, i)));
        } else {
            throw ApiException.invalid(loc, value, "stop must be a string or an array of at most 4 strings");
        }
        for (int i = 0; i < stops.size(); i++) {
            if (stops.get(i).isEmpty()) {
                List<Object> at = value.isArray() ? Loc.append(loc, i) : loc;
                throw ApiException.invalid(at, "", "stop sequences must not be empty");
            }
        }
        return List.copyOf(new LinkedHashSet<>(stops));
    }

    private static final java.util.regex.Pattern TOKEN_ID_KEY = java.util.regex.Pattern.compile("0|[1-9][0-9]*");

    private static Map<Integer, Double> logitBias(JsonNode value, List<Object> loc) {
        if (value == null) return Map.of();
        if (!value.isObject()) throw ApiException.invalid(loc, value, "logit_bias must be an object mapping token ids to biases");
        Map<Integer, Double> bias = new LinkedHashMap<>();
        for (Map.Entry<String, JsonNode> entry : value.properties()) {
            List<Object> entryLoc = Loc.append(loc, entry.getKey());
            String key = entry.getKey();
            // Digits only and no leading zeros: "+5" or "05" would be a second spelling of a key already there.
            if (!TOKEN_ID_KEY.matcher(key).matches()) {
                throw ApiException.invalid(entryLoc, key, "logit_bias keys must be token ids written as non-negative "
                        + "integers without sign or leading zeros, got '" + key + "'");
            }
            int tokenId;
            try {
                tokenId = Integer.parseInt(key);
            } catch (NumberFormatException tooLarge) {
                throw ApiException.invalid(entryLoc, key, "token id " + key + " is outside the vocabulary");
            }
            bias.put(tokenId, JsonFields.number(entry.getValue(), entryLoc, -100, 100));
        }
        return bias;
    }

    private static List<String> stringList(JsonNode value, List<Object> loc) {
        if (value == null) return List.of();
        if (!value.isArray()) throw ApiException.invalid(loc, value, Loc.param(loc) + " must be an array of strings");
        List<String> out = new ArrayList<>();
        for (int i = 0; i < value.size(); i++) out.add(JsonFields.string(value.get(i), Loc.append(loc, i)));
        return out;
    }

    private ResponseFormat responseFormat(JsonNode value, List<Object> loc) {
        if (value == null) return ResponseFormat.TEXT;
        JsonFields format = JsonFields.object(value, loc);
        String type = format.requiredString("type");
        if (!FORMAT_TYPES.contains(type)) {
            throw ApiException.invalid(format.loc("type"), format.node().get("type"),
                    "response_format.type must be text, json_object or json_schema, got '" + type + "'");
        }
        ResponseFormat result = switch (type) {
            case "json_object" -> {
                JsonNode schema = format.raw("schema");
                if (schema != null) JsonSchemas.check(schema, format.loc("schema"));
                yield new ResponseFormat(type, schema, null, false);
            }
            case "json_schema" -> {
                JsonFields spec = JsonFields.object(format.required("json_schema"), format.loc("json_schema"));
                String name = spec.requiredString("name");
                if (!Tool.NAME.matcher(name).matches()) {
                    throw ApiException.invalid(spec.loc("name"), name, "json_schema.name must match ^[a-zA-Z0-9_-]{1,64}$");
                }
                spec.string("description");
                JsonNode schema = spec.raw("schema");
                if (schema != null) JsonSchemas.check(schema, spec.loc("schema"));
                boolean strict = spec.bool("strict", false);
                ignoreUnread(spec);
                yield new ResponseFormat(type, schema, name, strict);
            }
            default -> ResponseFormat.TEXT;
        };
        ignoreUnread(format);
        return result;
    }

    private List<Tool> tools(JsonNode value, List<Object> loc) {
        if (value == null) return List.of();
        if (!value.isArray()) throw ApiException.invalid(loc, value, "tools must be an array of tools");
        List<Tool> tools = new ArrayList<>();
        Set<String> names = new HashSet<>();
        for (int i = 0; i < value.size(); i++) {
            JsonFields tool = JsonFields.object(value.get(i), Loc.append(loc, i));
            String type = tool.requiredString("type");
            if (!type.equals("function")) {
                throw ApiException.invalid(tool.loc("type"), type, "tool type must be 'function' (the only tool type supported)");
            }
            JsonFields function = JsonFields.object(tool.required("function"), tool.loc("function"));
            String name = function.requiredString("name");
            if (!Tool.NAME.matcher(name).matches()) {
                throw ApiException.invalid(function.loc("name"), name,
                        "function names must be 1-64 characters of a-z, A-Z, 0-9, underscores and dashes, got '" + name + "'");
            }
            if (!names.add(name)) throw ApiException.invalid(function.loc("name"), name, "duplicate function name '" + name + "'");
            String description = function.string("description");
            JsonNode parameters = function.raw("parameters");
            if (parameters != null) JsonSchemas.check(parameters, function.loc("parameters"));
            Boolean strict = function.bool("strict");
            ignoreUnread(function);
            ignoreUnread(tool);
            tools.add(new Tool(name, description, parameters, strict));
        }
        return tools;
    }

    private ToolChoice toolChoice(JsonNode value, List<Object> loc, List<Tool> tools) {
        if (value == null) return tools.isEmpty() ? ToolChoice.NONE : ToolChoice.AUTO;
        ToolChoice choice;
        if (value.isTextual()) {
            String mode = value.textValue();
            if (!Set.of("none", "auto", "required").contains(mode)) {
                throw ApiException.invalid(loc, value, "tool_choice must be none, auto, required or a function object, got '" + mode + "'");
            }
            choice = new ToolChoice(mode, null);
        } else {
            JsonFields object = JsonFields.object(value, loc);
            String type = object.requiredString("type");
            if (!type.equals("function")) throw ApiException.invalid(object.loc("type"), type, "tool_choice.type must be 'function'");
            JsonFields function = JsonFields.object(object.required("function"), object.loc("function"));
            String name = function.requiredString("name");
            if (tools.stream().noneMatch(t -> t.name().equals(name))) {
                throw ApiException.invalid(function.loc("name"), name, "tool_choice names function '" + name + "', which is not in tools");
            }
            ignoreUnread(function);
            ignoreUnread(object);
            choice = new ToolChoice("function", name);
        }
        if (tools.isEmpty() && choice.mode().equals("required")) {
            throw ApiException.invalid(loc, value, "tool_choice 'required' needs at least one tool in tools");
        }
        return choice;
    }

    private static List<String> modalities(JsonNode value, List<Object> loc) {
        if (value == null) return null;
        List<String> modalities = stringList(value, loc);
        if (modalities.isEmpty()) throw ApiException.invalid(loc, value, "modalities must name at least one modality");
        for (int i = 0; i < modalities.size(); i++) {
            if (!MODALITIES.contains(modalities.get(i))) {
                throw ApiException.invalid(Loc.append(loc, i), modalities.get(i), "modalities may contain text and audio");
            }
        }
        return modalities;
    }

    private JsonNode audio(JsonNode value, List<Object> loc) {
        if (value == null) return null;
        JsonFields audio = JsonFields.object(value, loc);
        audio.string("voice");
        audio.string("format");
        ignoreUnread(audio);
        return value;
    }

    private String prediction(JsonNode value, List<Object> loc) {
        if (value == null) return null;
        JsonFields prediction = JsonFields.object(value, loc);
        String type = prediction.requiredString("type");
        if (!type.equals("content")) throw ApiException.invalid(prediction.loc("type"), type, "prediction.type must be 'content'");
        List<ChatMessage.ContentPart> parts = content(prediction.required("content"), prediction.loc("content"));
        StringBuilder text = new StringBuilder();
        for (ChatMessage.ContentPart part : parts) {
            if (!part.isText()) throw ApiException.invalid(part.loc(), null, "prediction content parts must be text");
            text.append(part.text());
        }
        ignoreUnread(prediction);
        return text.toString();
    }

    /** Unknown fields inside nested objects are not "extra parameters": they are ignored and reported. */
    private void ignoreUnread(JsonFields fields) {
        for (String name : fields.unread()) {
            if (fields.node().get(name).isNull()) continue;
            ignored.add(Loc.param(fields.loc(name)));
        }
    }

    private static Set<String> union(Set<String> a, Set<String> b) {
        Set<String> out = new HashSet<>(a);
        out.addAll(b);
        return Set.copyOf(out);
    }
}
