package dev.quill.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.quill.engine.fixture.ModelShape;
import dev.quill.engine.fixture.RandomModel;
import dev.quill.engine.model.Architecture;
import dev.quill.engine.model.KvCache;
import dev.quill.engine.model.LanguageModel;
import dev.quill.engine.model.Models;
import dev.quill.engine.model.SequenceChunk;
import dev.quill.engine.sampling.SamplingParams;
import dev.quill.engine.tensor.GgmlType;
import dev.quill.engine.tensor.ThreadPool;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The facade on a tiny random-weight model: loading, generation through the real forward pass, determinism. */
class EnginesTest {

    @TempDir static Path dir;
    static Path modelFile;

    @BeforeAll
    static void writeModel() {
        modelFile = dir.resolve("tiny-llama-q8_0.gguf");
        new RandomModel(Architecture.LLAMA, ModelShape.TINY, GgmlType.Q8_0).seed(3).weightStd(0.1f).write(modelFile, m -> { });
    }

    /** 48 blocks of 16 tokens (768 positions) at 1 KiB per position for the tiny shape with an F16 cache. */
    static EngineOptions options() {
        return EngineOptions.defaults().withThreads(1).withKvCacheBytes(48 * 16 * 1024).withMaxBatchTokens(64);
    }

    static final class Collector implements GenerationListener {
        final List<GeneratedToken> tokens = new CopyOnWriteArrayList<>();
        volatile List<GeneratedToken> promptLogprobs;
        volatile FinishReason reason;
        volatile int cachedPromptTokens;
        volatile Throwable error;
        final CountDownLatch firstToken = new CountDownLatch(1);
        final CountDownLatch ended = new CountDownLatch(1);

        @Override
        public void onPromptLogprobs(List<GeneratedToken> promptTokens) {
            promptLogprobs = promptTokens;
        }

        @Override
        public void onToken(GeneratedToken token) {
            tokens.add(token);
            firstToken.countDown();
        }

        @Override
        public void onFinish(FinishReason reason, int stopTokenId, float stopTokenLogprob, int promptTokens, int generatedTokens,
                             int cachedPromptTokens) {
            this.reason = reason;
            this.cachedPromptTokens = cachedPromptTokens;
            ended.countDown();
        }

        @Override
        public void onError(Throwable error) {
            this.error = error;
            ended.countDown();
        }

        Collector await() throws InterruptedException {
            assertThat(ended.await(60, TimeUnit.SECONDS)).as("generation ended").isTrue();
            assertThat(error).isNull();
            return this;
        }

        int[] ids() {
            return tokens.stream().mapToInt(GeneratedToken::id).toArray();
        }
    }

    static GenerationRequest request(int[] prompt, SamplingParams sampling, int maxTokens, int logprobs) {
        return new GenerationRequest(prompt, sampling, maxTokens, logprobs, false, Set.of(), true);
    }

    @Test
    void describesTheLoadedModel() {
        try (Engine engine = Engines.load(modelFile, options())) {
            ModelInfo info = engine.info();
            assertThat(info.name()).isEqualTo("quill-random-llama-q8_0");
            assertThat(info.architecture()).isEqualTo("llama");
            assertThat(info.vocabSize()).isEqualTo(512);
            assertThat(info.contextLength()).as("the model's 512, within the 768 the cache holds").isEqualTo(512);
            assertThat(info.chatTemplate()).contains("<|im_start|>");
            assertThat(info.fingerprint()).matches("fp_[0-9a-f]{10}");
            assertThat(engine.tokenizer().vocabSize()).isEqualTo(512);
            assertThat(engine.stats().kvBlocksTotal()).isEqualTo(48);
        }
    }

    @Test
    void theFingerprintFollowsTheFileAndTheNumericsOptions() throws Exception {
        String base = Engines.fingerprint(modelFile, options());
        assertThat(Engines.fingerprint(modelFile, options().withThreads(1).withMaxQueue(3))).isEqualTo(base);
        assertThat(Engines.fingerprint(modelFile, options().withKvF16(false))).isNotEqualTo(base);
        assertThat(Engines.fingerprint(modelFile, options().withBlockSize(32))).isNotEqualTo(base);
        Path other = dir.resolve("other.gguf");
        new RandomModel(Architecture.LLAMA, ModelShape.TINY, GgmlType.Q8_0).seed(4).weightStd(0.1f).write(other, m -> { });
        assertThat(Engines.fingerprint(other, options())).isNotEqualTo(base);
        Files.delete(other);
    }

    @Test
    void generatesWhatTheModelComputesTokenByToken() throws Exception {
        int[] prompt;
        Collector c = new Collector();
        try (Engine engine = Engines.load(modelFile, options())) {
            prompt = engine.tokenizer().encode("the world and the sea", true, false);
            engine.submit(request(prompt, SamplingParams.GREEDY, 12, 0), c);
            c.await();
        }
        assertThat(c.reason).isEqualTo(FinishReason.LENGTH);

        // The same continuation, driven by hand: one sequence, prefill then one token per pass, argmax.
        try (ThreadPool pool = new ThreadPool(1); LanguageModel model = Models.load(modelFile, pool)) {
            KvCache cache = model.createKvCache(4, 16, true);
            int[] table = {0, 1, 2, 3};
            float[] logits = model.forward(List.of(new SequenceChunk(prompt, 0, table, false)), cache);
            int[] expected = new int[12];
            for (int i = 0; i < 12; i++) {
                expected[i] = argmax(logits);
                logits = model.forward(List.of(new SequenceChunk(new int[] {expected[i]}, prompt.length + i, table, false)), cache);
            }
            assertThat(c.ids()).containsExactly(expected);
        }
        assertThat(c.tokens).allSatisfy(t -> assertThat(t.logprob()).isNegative());
    }

    @Test
    void speculativeDecodingChangesNothingInTheOutput() throws Exception {
        // A bias towards three tokens makes the output fall into patterns with breaks: guesses are kept and rejected.
        java.util.Map<Integer, Double> bias = java.util.Map.of(40, 4.0, 41, 4.0, 42, 4.0);
        List<SamplingParams> samplings = List.of(
                new SamplingParams(0, 1, 0, 0, 0, 0, 1, bias, null),
                new SamplingParams(0.7, 0.95, 40, 0, 0, 0, 1, bias, 7L));
        List<List<GeneratedToken>> plain = new ArrayList<>();
        List<List<GeneratedToken>> guessed = new ArrayList<>();
        for (int speculative : new int[] {0, 3}) {
            Engine engine = Engines.load(modelFile, options().withSpeculativeTokens(speculative));
            try (engine) {
                int[] prompt = engine.tokenizer().encode("the sea and the sea and the sea", true, false);
                for (SamplingParams sampling : samplings) {
                    Collector c = new Collector();
                    engine.submit(request(prompt, sampling, 80, 3), c);
                    (speculative == 0 ? plain : guessed).add(c.await().tokens);
                }
            }
            EngineStats stats = engine.stats(); // final once the loop has stopped
            if (speculative == 0) {
                assertThat(stats.guessedTokens()).isZero();
            } else {
                assertThat(stats.keptGuesses()).as("guesses were kept").isPositive();
                assertThat(stats.guessedTokens()).as("and some rejected").isGreaterThan(stats.keptGuesses());
            }
        }
        for (int i = 0; i < plain.size(); i++) {
            assertThat(guessed.get(i)).containsExactlyElementsOf(plain.get(i)).hasSize(80);
        }
    }

    @Test
    void reportsPromptLogprobsWithoutGenerating() throws Exception {
        try (Engine engine = Engines.load(modelFile, options())) {
            int[] prompt = engine.tokenizer().encode("a long river", true, false);
            Collector c = new Collector();
            engine.submit(new GenerationRequest(prompt, SamplingParams.GREEDY, 0, 3, true, Set.of(), false), c);
            c.await();
            assertThat(c.reason).isEqualTo(FinishReason.LENGTH);
            assertThat(c.tokens).isEmpty();
            assertThat(c.promptLogprobs).hasSize(prompt.length);
            assertThat(c.promptLogprobs.getFirst()).isNull();
            for (GeneratedToken t : c.promptLogprobs.subList(1, prompt.length)) {
                assertThat(t.logprob()).isNegative();
                assertThat(t.topLogprobs()).hasSize(3);
            }
        }
    }

    @Test
    void sameSeedGivesBitIdenticalOutputAloneOrAmongFifteenOthers() throws Exception {
        Random random = new Random(11);
        List<GenerationRequest> requests = new ArrayList<>();
        for (int i = 0; i < 16; i++) {
            int[] prompt = random.ints(3 + 7 * i, 261, 512).toArray();
            var sampling = new SamplingParams(0.8, 0.95, 0, 0, 0, 0, 1, Map.of(), 500L + i);
            requests.add(request(prompt, sampling, 4 + i, 2));
        }
        // 16 blocks: 256 positions for about 1,100 tokens of work, so sequences get preempted and recomputed.
        try (Engine engine = Engines.load(modelFile, options().withKvCacheBytes(16 * 16 * 1024).withPrefixCaching(false))) {
            List<Collector> alone = new ArrayList<>();
            for (GenerationRequest r : requests) {
                Collector c = new Collector();
                engine.submit(r, c);
                alone.add(c.await());
            }
            List<Collector> together = requests.stream().map(r -> {
                Collector c = new Collector();
                engine.submit(r, c);
                return c;
            }).toList();
            for (int i = 0; i < 16; i++) {
                together.get(i).await();
                assertThat(together.get(i).tokens).as("request %d", i).isEqualTo(alone.get(i).tokens);
            }
            assertThat(engine.stats().preemptions()).as("the crowd outgrew the KV cache").isPositive();
        }
    }

    @Test
    void aPromptServedFromThePrefixCacheContinuesExactlyAsAComputedOne() throws Exception {
        int[] prompt = new Random(5).ints(70, 261, 512).toArray();
        var sampling = new SamplingParams(1.0, 1, 0, 0, 0, 0, 1, Map.of(), 9L);
        try (Engine engine = Engines.load(modelFile, options())) {
            Collector first = new Collector();
            engine.submit(request(prompt, sampling, 8, 1), first);
            first.await();
            Collector second = new Collector();
            engine.submit(request(prompt, sampling, 8, 1), second);
            second.await();

            assertThat(first.cachedPromptTokens).isZero();
            assertThat(second.cachedPromptTokens).isEqualTo(64);
            assertThat(second.tokens).isEqualTo(first.tokens);
        }
    }

    @Test
    void closingCancelsGenerationsInFlightAndRefusesNewOnes() throws Exception {
        Engine engine = Engines.load(modelFile, options());
        Collector c = new Collector();
        engine.submit(request(IntStream.range(300, 310).toArray(), SamplingParams.GREEDY, 400, -1), c);
        assertThat(c.firstToken.await(60, TimeUnit.SECONDS)).isTrue();

        engine.close();

        assertThat(c.ended.getCount()).isZero();
        assertThat(c.reason).isEqualTo(FinishReason.CANCELLED);
        assertThatThrownBy(() -> engine.submit(request(new int[] {1}, SamplingParams.GREEDY, 1, -1), new Collector()))
                .isInstanceOf(IllegalStateException.class);
        engine.close(); // twice is fine
    }

    @Test
    void aMissingFileIsNamed() {
        Path missing = dir.resolve("nope.gguf");
        assertThatThrownBy(() -> Engines.load(missing, options())).hasMessageContaining("nope.gguf");
    }

    private static int argmax(float[] row) {
        int best = 0;
        for (int i = 1; i < row.length; i++) if (row[i] > row[best]) best = i;
        return best;
    }
}
