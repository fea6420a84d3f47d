package dev.quill.engine;

/** A token and its log-probability under the model's full softmax (before any sampling filter). */
public record TokenLogprob(int id, float logprob) {}
