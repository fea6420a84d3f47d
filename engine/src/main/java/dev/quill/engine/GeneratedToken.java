package dev.quill.engine;

import java.util.List;

/**
 * One generated token as reported to a {@link GenerationListener}.
 *
 * @param id          token id
 * @param text        the text this token completes (whole UTF-8 characters only; may be empty while a character
 *                    spanning several tokens is pending)
 * @param logprob     log-probability of this token (NaN when logprobs were not requested)
 * @param topLogprobs the requested number of most likely alternatives, most likely first (empty when not requested)
 */
public record GeneratedToken(int id, String text, float logprob, List<TokenLogprob> topLogprobs) {}
