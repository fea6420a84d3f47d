package dev.quill.server.protocol;

import java.util.List;
import java.util.Set;

/**
 * Parameters outside the OpenAI/Azure API that the server and engine honour when the client sends
 * {@code extra-parameters: pass-through}. Defaults apply otherwise.
 *
 * @param minP                   min-p sampling filter in [0, 1] (0 = off)
 * @param repetitionPenalty      multiplicative repetition penalty in (0, 10] (1 = off)
 * @param ignoreEos              keep generating past end-of-generation tokens
 * @param includeStopStrInOutput keep a matched stop string at the end of the text (Fireworks behaviour)
 * @param stopTokenIds           extra token ids that end generation
 * @param skipSpecialTokens      leave special tokens out of the text (default true)
 * @param usageInLastChunk       streaming: put usage on the last content chunk (Fireworks behaviour)
 * @param addSpecialTokens       add BOS etc. when tokenizing; null = the endpoint's default
 * @param cachePrompt            the prompt may start from cached KV blocks of earlier requests (llama.cpp's name)
 */
public record Extensions(Double minP, Double repetitionPenalty, boolean ignoreEos, boolean includeStopStrInOutput,
                         List<Integer> stopTokenIds, boolean skipSpecialTokens, boolean usageInLastChunk,
                         Boolean addSpecialTokens, boolean cachePrompt) {

    public static final Extensions DEFAULTS = new Extensions(null, null, false, false, List.of(), true, false, null, true);

    /** Every extension field name, as it appears in a request body. */
    public static final Set<String> NAMES = Set.of("min_p", "repetition_penalty", "ignore_eos",
            "include_stop_str_in_output", "stop_token_ids", "skip_special_tokens", "usage_in_last_chunk",
            "add_special_tokens", "cache_prompt");
}
