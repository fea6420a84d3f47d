package dev.quill.server.protocol;

import java.util.List;

/**
 * A validated {@code POST /v1/chat/completions} request.
 *
 * @param topLogprobs alternatives per token (0–20) when logprobs is true
 */
public record ChatCompletionRequest(List<ChatMessage> messages, boolean logprobs, int topLogprobs,
                                    GenerationOptions options) {}
