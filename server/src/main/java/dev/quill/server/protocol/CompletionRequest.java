package dev.quill.server.protocol;

import java.util.List;

/**
 * A validated {@code POST /v1/completions} request.
 *
 * @param prompts  the prompts (several prompts give n choices each, indexed prompt-major); empty list = no prompt
 * @param logprobs number of alternatives per token (0–5), or null for no logprobs
 * @param suffix   text after the insertion point (fill-in-the-middle), or null
 * @param images   Fireworks-style image data URLs, or an empty list
 */
public record CompletionRequest(List<Prompt> prompts, boolean echo, Integer logprobs, String suffix, List<String> images,
                                GenerationOptions options) {

    /** OpenAI's documented default for completions is 16; the Azure page this server follows says 256. */
    public static final int DEFAULT_MAX_TOKENS = 256;
}
