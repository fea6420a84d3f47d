package dev.quill.cli;

import dev.quill.engine.fixture.ModelShape;
import dev.quill.engine.fixture.RandomModel;
import dev.quill.engine.gguf.GgufFile;
import dev.quill.engine.gguf.GgufReader;
import dev.quill.engine.model.Architecture;
import dev.quill.engine.tensor.GgmlType;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code quill make-model}: writes a random-weight model for tests and benchmarks. */
@Command(name = "make-model", mixinStandardHelpOptions = true,
        description = "Write a GGUF model with random weights (for tests and benchmarks).")
public final class MakeModelCommand implements Callable<Integer> {

    @Option(names = "--arch", defaultValue = "llama", description = "llama, qwen2 or qwen3 (default: ${DEFAULT-VALUE})")
    String arch;

    @Option(names = "--shape", defaultValue = "tiny", description = "tiny, 110m or 1b (default: ${DEFAULT-VALUE})")
    String shape;

    @Option(names = "--type", defaultValue = "q8_0",
            description = "f32, f16, bf16, q8_0, q4_0, q4_k, q5_k or q6_k (default: ${DEFAULT-VALUE})")
    String type;

    @Option(names = "--seed", defaultValue = "1", description = "random seed (default: ${DEFAULT-VALUE})")
    long seed;

    @Option(names = "--vocab", paramLabel = "FILE", description = "copy the tokenizer (all tokenizer.* keys) of this GGUF")
    Path vocab;

    @Option(names = "--tied", description = "no output.weight: reuse the token embedding")
    boolean tied;

    @Option(names = {"-o", "--output"}, required = true, paramLabel = "FILE", description = "the GGUF file to write")
    Path output;

    @Override
    public Integer call() {
        Architecture architecture;
        ModelShape modelShape;
        GgmlType tensorType;
        try {
            architecture = Architecture.byId(arch.toLowerCase(Locale.ROOT));
            modelShape = ModelShape.byName(shape);
            tensorType = parseType(type);
        } catch (RuntimeException e) {
            System.err.println("make-model: " + e.getMessage());
            return 2;
        }
        RandomModel model = new RandomModel(architecture, modelShape, tensorType).seed(seed).tiedEmbeddings(tied);
        long start = System.nanoTime();
        try {
            if (vocab != null) {
                try (GgufFile source = GgufReader.open(vocab)) {
                    model.vocabulary(source.metadata());
                    model.write(output, System.out::println);
                }
            } else {
                model.write(output, System.out::println);
            }
            System.out.printf(Locale.ROOT, "wrote %s (%.1f MB) in %.1f s%n", output, Files.size(output) / 1e6,
                    (System.nanoTime() - start) / 1e9);
            return 0;
        } catch (Exception e) {
            System.err.println("make-model: " + e.getMessage());
            return 1;
        }
    }

    private static GgmlType parseType(String name) {
        for (GgmlType t : GgmlType.values()) {
            if (t.supported && t.name().equalsIgnoreCase(name)) return t;
        }
        throw new IllegalArgumentException("unknown tensor type '" + name + "' (known: f32, f16, bf16, q8_0, q4_0, q4_k, q5_k, q6_k)");
    }
}
