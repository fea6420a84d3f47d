package dev.quill.engine.grammar;

import dev.quill.engine.gguf.GgufFile;
import dev.quill.engine.gguf.GgufReader;
import dev.quill.engine.tokenizer.Tokenizer;
import dev.quill.engine.tokenizer.Tokenizers;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/** The real vocabularies of the tokenizer fixtures (Llama 2: 32k SentencePiece, Llama 3: 128k byte-level BPE). */
final class Vocabularies {
    private static final Map<String, Tokenizer> LOADED = new ConcurrentHashMap<>();

    private Vocabularies() {}

    static Tokenizer load(String name) {
        return LOADED.computeIfAbsent(name, n -> {
            try (GgufFile file = GgufReader.open(Path.of(Vocabularies.class.getResource("/tokenizers/" + n + ".gguf").toURI()))) {
                return Tokenizers.fromMetadata(file.metadata());
            } catch (URISyntaxException e) {
                throw new IllegalStateException(e);
            }
        });
    }
}
