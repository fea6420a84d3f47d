package dev.quill.engine;

/**
 * What a loaded model is.
 *
 * @param name          {@code general.name}, or the file name
 * @param architecture  {@code general.architecture}
 * @param contextLength tokens of context the engine serves (metadata value, possibly lowered by options)
 * @param chatTemplate  {@code tokenizer.chat_template}, or null
 * @param fingerprint   changes whenever the model file, engine version or numerics settings change
 */
public record ModelInfo(String name, String architecture, int contextLength, int vocabSize, String chatTemplate,
                        String fingerprint) {}
