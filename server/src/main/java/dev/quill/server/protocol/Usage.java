package dev.quill.server.protocol;

/** Token counts of one request: all prompts and all returned choices. */
public record Usage(int promptTokens, int completionTokens, int totalTokens, PromptTokensDetails promptTokensDetails) {

    /** @param cachedTokens prompt tokens whose KV came from the prefix cache */
    public record PromptTokensDetails(int cachedTokens) {}

    public static Usage of(int promptTokens, int completionTokens, int cachedTokens) {
        return new Usage(promptTokens, completionTokens, promptTokens + completionTokens, new PromptTokensDetails(cachedTokens));
    }
}
