package dev.quill.engine.tokenizer;

import dev.quill.engine.gguf.GgufFile;
import dev.quill.engine.gguf.GgufReader;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The real vocabularies under src/test/resources/tokenizers (made by tools/tokenizer-fixtures/make-fixtures.mjs):
 * each {@code <name>.gguf} and the reference encodings in {@code <name>.encodings.tsv}.
 */
final class ReferenceFixtures {
    static final List<String> NAMES = List.of("llama2", "gemma3", "llama3", "qwen3");

    /** One line of an encodings file. */
    record Case(boolean addSpecial, boolean parseSpecial, String text, int[] ids, String decoded) {
        @Override
        public String toString() {
            return "add=" + addSpecial + " parse=" + parseSpecial + " text=" + escape(text);
        }
    }

    private static final Map<String, Tokenizer> TOKENIZERS = new ConcurrentHashMap<>();

    private ReferenceFixtures() {}

    /** The tokenizer built from {@code <name>.gguf}; loaded once per test run. */
    static Tokenizer tokenizer(String name) {
        return TOKENIZERS.computeIfAbsent(name, n -> {
            try (GgufFile file = GgufReader.open(resource(n + ".gguf"))) {
                return Tokenizers.fromMetadata(file.metadata());
            }
        });
    }

    static List<Case> cases(String name) {
        try {
            List<Case> cases = new ArrayList<>();
            for (String line : Files.readAllLines(resource(name + ".encodings.tsv"), StandardCharsets.UTF_8)) {
                if (line.startsWith("#") || line.isEmpty()) continue;
                String[] f = line.split("\t", -1);
                int[] ids = f[3].isEmpty() ? new int[0] : Arrays.stream(f[3].split(" ")).mapToInt(Integer::parseInt).toArray();
                cases.add(new Case(f[0].equals("1"), f[1].equals("1"), fromBase64(f[2]), ids, fromBase64(f[4])));
            }
            return cases;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static Path resource(String file) {
        try {
            var url = ReferenceFixtures.class.getResource("/tokenizers/" + file);
            if (url == null) throw new IllegalStateException("missing test resource tokenizers/" + file);
            return Path.of(url.toURI());
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    private static String fromBase64(String s) {
        return new String(Base64.getDecoder().decode(s), StandardCharsets.UTF_8);
    }

    static String escape(String s) {
        StringBuilder b = new StringBuilder("\"");
        s.codePoints().forEach(cp -> {
            if (cp == '\n') b.append("\\n");
            else if (cp == '\t') b.append("\\t");
            else if (cp == '\r') b.append("\\r");
            else if (cp < 0x20 || cp == 0x7F) b.append("\\u%04x".formatted(cp));
            else b.appendCodePoint(cp);
        });
        return b.append('"').toString();
    }
}
