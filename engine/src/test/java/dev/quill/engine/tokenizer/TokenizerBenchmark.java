package dev.quill.engine.tokenizer;

import dev.quill.engine.gguf.GgufFile;
import dev.quill.engine.gguf.GgufReader;
import dev.quill.engine.gguf.Metadata;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Encoding 10 kB of mixed text, decoding it, and building a tokenizer, on the real vocabularies of the test fixtures.
 * Run: {@code mvn -pl engine test-compile} then {@code java -cp <test classpath> org.openjdk.jmh.Main TokenizerBenchmark}.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = "--add-modules=jdk.incubator.vector")
public class TokenizerBenchmark {
    @Param({"llama2", "gemma3", "llama3", "qwen3"})
    public String vocabulary;

    private Metadata metadata;
    private Tokenizer tokenizer;
    private String text;
    private int[] ids;

    @Setup(Level.Trial)
    public void setUp() {
        try (GgufFile file = GgufReader.open(ReferenceFixtures.resource(vocabulary + ".gguf"))) {
            metadata = file.metadata();
        }
        tokenizer = Tokenizers.fromMetadata(metadata);
        StringBuilder b = new StringBuilder();
        while (b.length() < 10_000) {
            b.append("The quick brown fox jumps over the lazy dog; it didn't stop 12345 times. Über café 日本語 🦙\n")
                    .append("\tdef square(x):\n\t    return x ** 2  # {\"json\": [1, 2, 3]}\n");
        }
        text = b.toString();
        ids = tokenizer.encode(text, true, false);
    }

    @Benchmark
    public int[] encode10kB() {
        return tokenizer.encode(text, true, false);
    }

    @Benchmark
    public String decode10kB() {
        return tokenizer.decode(ids);
    }

    @Benchmark
    public Tokenizer buildFromMetadata() {
        return Tokenizers.fromMetadata(metadata);
    }
}
