package dev.quill.engine.scheduler;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.quill.engine.EngineOptions;
import dev.quill.engine.EngineStats;
import dev.quill.engine.FinishReason;
import dev.quill.engine.GeneratedToken;
import dev.quill.engine.GenerationHandle;
import dev.quill.engine.GenerationListener;
import dev.quill.engine.GenerationRequest;
import dev.quill.engine.QueueFullException;
import dev.quill.engine.model.SequenceChunk;
import dev.quill.engine.sampling.Logprobs;
import dev.quill.engine.sampling.Sampler;
import dev.quill.engine.sampling.SamplingParams;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

class SchedulerTest {

    static final int VOCAB = 64;
    static final int BLOCK = 16;

    /** Collects everything a sequence reports. */
    static class Recorder implements GenerationListener {
        final List<GeneratedToken> tokens = new CopyOnWriteArrayList<>();
        volatile List<GeneratedToken> promptLogprobs;
        volatile FinishReason reason;
        volatile int stopToken;
        volatile float stopTokenLogprob;
        volatile int promptTokens;
        volatile int generated;
        volatile int cachedPromptTokens;
        volatile Throwable error;
        final CountDownLatch ended = new CountDownLatch(1);

        @Override
        public void onPromptLogprobs(List<GeneratedToken> promptTokens) {
            promptLogprobs = promptTokens;
        }

        @Override
        public void onToken(GeneratedToken token) {
            tokens.add(token);
        }

        @Override
        public void onFinish(FinishReason reason, int stopTokenId, float stopTokenLogprob, int promptTokens, int generatedTokens,
                             int cachedPromptTokens) {
            assertThat(this.reason).as("finished twice").isNull();
            this.reason = reason;
            this.stopToken = stopTokenId;
            this.stopTokenLogprob = stopTokenLogprob;
            this.promptTokens = promptTokens;
            this.generated = generatedTokens;
            this.cachedPromptTokens = cachedPromptTokens;
            ended.countDown();
        }

        @Override
        public void onError(Throwable error) {
            this.error = error;
            ended.countDown();
        }

        int[] ids() {
            return tokens.stream().mapToInt(GeneratedToken::id).toArray();
        }

        float[] logprobs() {
            float[] l = new float[tokens.size()];
            for (int i = 0; i < l.length; i++) l[i] = tokens.get(i).logprob();
            return l;
        }
    }

    FakeLanguageModel model = new FakeLanguageModel(VOCAB, 4096);
    Set<Integer> eog = Set.of();

    Scheduler scheduler(EngineOptions options) {
        return new Scheduler(model, new FakeTokenizer(VOCAB, eog), options);
    }

    /**
     * Options with a KV cache of exactly {@code blocks} blocks of {@value #BLOCK} tokens, and one token per decode
     * step (speculative decoding off, so that step counts are exact; its own tests below turn it on).
     */
    static EngineOptions withBlocks(int blocks) {
        return EngineOptions.defaults().withThreads(1).withBlockSize(BLOCK).withKvCacheBytes((long) blocks * BLOCK * 64)
                .withSpeculativeTokens(0);
    }

    static void runUntilIdle(Scheduler s) {
        for (int i = 0; i < 1_000_000; i++) {
            if (!s.step()) return;
        }
        throw new AssertionError("the scheduler never went idle");
    }

    static int[] prompt(long seed, int length) {
        return new Random(seed).ints(length, 3, VOCAB).toArray();
    }

    static SamplingParams sampled(long seed) {
        return new SamplingParams(0.9, 0.95, 40, 0, 0, 0, 1, Map.of(), seed);
    }

    /** What a correct engine must produce: sample token by token from the model's logits of the true sequence. */
    int[] reference(int[] prompt, SamplingParams params, int maxTokens) {
        Sampler sampler = new Sampler(params, VOCAB, prompt);
        int[] tokens = Arrays.copyOf(prompt, prompt.length + maxTokens);
        int length = prompt.length;
        for (int i = 0; i < maxTokens; i++) {
            int t = sampler.sample(model.logits(tokens, length), 0);
            sampler.accept(t);
            if (eog.contains(t)) break;
            tokens[length++] = t;
        }
        return Arrays.copyOfRange(tokens, prompt.length, length);
    }

    Recorder submit(Scheduler s, GenerationRequest request) {
        Recorder r = new Recorder();
        s.submit(request, List.of(r));
        return r;
    }

    static void assertNoBlocksInUse(Scheduler s) {
        EngineStats st = s.stats();
        assertThat(st.kvBlocksUsed()).isZero();
        assertThat(st.kvBlocksFree() + st.kvBlocksCached()).isEqualTo(st.kvBlocksTotal());
    }

    // ---- generation ------------------------------------------------------------------------------------------

    @Test
    void generatesWhatTheModelPredictsAndFinishesAtMaxTokens() {
        Scheduler s = scheduler(withBlocks(64));
        int[] prompt = prompt(1, 20);
        Recorder r = submit(s, GenerationRequest.of(prompt, SamplingParams.GREEDY, 12));

        runUntilIdle(s);

        assertThat(r.ids()).containsExactly(reference(prompt, SamplingParams.GREEDY, 12));
        assertThat(r.reason).isEqualTo(FinishReason.LENGTH);
        assertThat(r.stopToken).isEqualTo(-1);
        assertThat(r.promptTokens).isEqualTo(20);
        assertThat(r.generated).isEqualTo(12);
        assertThat(r.tokens.getFirst().text()).isEqualTo("<" + r.ids()[0] + ">");
        assertThat(r.tokens.getFirst().logprob()).as("no logprobs were asked for").isNaN();
        assertThat(model.forwardCalls).as("one prefill, then one step per further token").isEqualTo(12);
        assertNoBlocksInUse(s);
        assertThat(s.stats().generatedTokens()).isEqualTo(12);
        assertThat(s.stats().promptTokens()).isEqualTo(20);
    }

    @Test
    void seededSamplingFollowsTheSequencesOwnRandomStream() {
        Scheduler s = scheduler(withBlocks(64));
        int[] prompt = prompt(2, 9);
        Recorder r = submit(s, GenerationRequest.of(prompt, sampled(77), 30));
        runUntilIdle(s);
        assertThat(r.ids()).containsExactly(reference(prompt, sampled(77), 30));
    }

    @Test
    void splitsALongPromptIntoChunksOfTheTokenBudget() {
        Scheduler s = scheduler(withBlocks(64).withMaxBatchTokens(32));
        int[] prompt = prompt(3, 100);
        Recorder r = submit(s, GenerationRequest.of(prompt, SamplingParams.GREEDY, 3));

        s.step();
        assertThat(model.lastChunkSizes).containsExactly(32);
        runUntilIdle(s);

        assertThat(model.forwardCalls).as("32+32+32+4 prompt tokens, then 2 decode steps").isEqualTo(6);
        assertThat(r.ids()).containsExactly(reference(prompt, SamplingParams.GREEDY, 3));
    }

    @Test
    void decodesEveryRunningSequenceAndPrefillsNewPromptsInOneForwardPass() {
        Scheduler s = scheduler(withBlocks(64).withMaxBatchTokens(40));
        List<Recorder> early = new ArrayList<>();
        for (int i = 0; i < 3; i++) early.add(submit(s, GenerationRequest.of(prompt(10 + i, 5), SamplingParams.GREEDY, 20)));
        s.step();
        assertThat(model.lastChunkSizes).containsExactly(5, 5, 5);

        Recorder late = submit(s, GenerationRequest.of(prompt(20, 100), SamplingParams.GREEDY, 4));
        s.step();
        assertThat(model.lastChunkSizes).as("three decode tokens, then the rest of the budget for the new prompt")
                .containsExactly(1, 1, 1, 37);
        s.step();
        assertThat(model.lastChunkSizes).containsExactly(1, 1, 1, 37);
        runUntilIdle(s);

        for (int i = 0; i < 3; i++) {
            assertThat(early.get(i).ids()).containsExactly(reference(prompt(10 + i, 5), SamplingParams.GREEDY, 20));
        }
        assertThat(late.ids()).containsExactly(reference(prompt(20, 100), SamplingParams.GREEDY, 4));
    }

    @Test
    void stopsAtAnEndOfGenerationTokenWithoutReportingIt() {
        eog = Set.of(2);
        model.eosToken = 2;
        model.eosAfter = 15;
        Scheduler s = scheduler(withBlocks(64));
        Recorder r = submit(s, GenerationRequest.of(prompt(4, 10), SamplingParams.GREEDY, 50));
        runUntilIdle(s);

        assertThat(r.reason).isEqualTo(FinishReason.STOP);
        assertThat(r.stopToken).isEqualTo(2);
        assertThat(r.tokens).hasSize(5);
        assertThat(r.generated).as("the stop token counts as generated").isEqualTo(6);
        assertThat(r.ids()).doesNotContain(2);
        assertThat(r.stopTokenLogprob).as("no logprobs were asked for").isNaN();
        assertNoBlocksInUse(s);
    }

    @Test
    void reportsTheStopTokensLogprobWhenLogprobsAreAsked() {
        eog = Set.of(2);
        model.eosToken = 2;
        model.eosAfter = 15;
        Scheduler s = scheduler(withBlocks(64));
        Recorder r = submit(s, new GenerationRequest(prompt(4, 10), SamplingParams.GREEDY, 50, 0, false, Set.of(), false));
        runUntilIdle(s);

        assertThat(r.stopToken).isEqualTo(2);
        assertThat(r.stopTokenLogprob).isFinite().isLessThanOrEqualTo(0f);
        assertThat(r.tokens).allSatisfy(t -> assertThat(t.logprob()).isFinite());
    }

    @Test
    void ignoreEosGeneratesPastEndOfGenerationTokens() {
        eog = Set.of(2);
        model.eosToken = 2;
        model.eosAfter = 15;
        Scheduler s = scheduler(withBlocks(64));
        Recorder r = submit(s, new GenerationRequest(prompt(4, 10), SamplingParams.GREEDY, 12, -1, false, Set.of(), true));
        runUntilIdle(s);

        assertThat(r.reason).isEqualTo(FinishReason.LENGTH);
        assertThat(r.ids()).hasSize(12).contains(2);
    }

    @Test
    void stopsAtARequestedStopTokenId() {
        Scheduler s = scheduler(withBlocks(64));
        int[] prompt = prompt(5, 10);
        int[] free = reference(prompt, SamplingParams.GREEDY, 8);
        Recorder r = submit(s, new GenerationRequest(prompt, SamplingParams.GREEDY, 8, -1, false, Set.of(free[3]), false));
        runUntilIdle(s);

        int firstStop = Arrays.stream(free).boxed().toList().indexOf(free[3]);
        assertThat(r.reason).isEqualTo(FinishReason.STOP);
        assertThat(r.stopToken).isEqualTo(free[3]);
        assertThat(r.ids()).containsExactly(Arrays.copyOf(free, firstStop));
    }

    @Test
    void endsAtTheContextLength() {
        model = new FakeLanguageModel(VOCAB, 24);
        Scheduler s = scheduler(withBlocks(64));
        Recorder r = submit(s, GenerationRequest.of(prompt(6, 20), SamplingParams.GREEDY, 100));
        runUntilIdle(s);

        assertThat(s.contextLength()).isEqualTo(24);
        assertThat(r.reason).isEqualTo(FinishReason.LENGTH);
        assertThat(r.ids()).as("prompt and output fill the context").hasSize(4);
    }

    @Test
    void theContextIsLoweredToWhatTheKvBudgetHolds() {
        Scheduler s = scheduler(withBlocks(10));
        assertThat(s.contextLength()).isEqualTo(160);
        assertThat(scheduler(withBlocks(10).withContextLength(100)).contextLength()).isEqualTo(100);
        assertThat(s.stats().kvBlocksTotal()).isEqualTo(10);
        Scheduler roomy = scheduler(withBlocks(1000).withMaxSequences(2).withContextLength(200));
        assertThat(roomy.stats().kvBlocksTotal()).as("two sequences of 200 tokens never need more than 2 x 13 blocks").isEqualTo(26);
        assertThat(roomy.contextLength()).isEqualTo(200);
        assertThatThrownBy(() -> scheduler(withBlocks(64).withKvCacheBytes(100)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("cannot hold one block");
    }

    @Test
    void reportsChosenAndTopLogprobsFromTheFullSoftmax() {
        Scheduler s = scheduler(withBlocks(64));
        int[] prompt = prompt(7, 10);
        Recorder r = submit(s, new GenerationRequest(prompt, sampled(5), 4, 3, false, Set.of(), false));
        runUntilIdle(s);

        int[] tokens = IntStream.concat(Arrays.stream(prompt), Arrays.stream(r.ids())).toArray();
        for (int i = 0; i < 4; i++) {
            Logprobs expected = Logprobs.of(model.logits(tokens, 10 + i), 0, VOCAB, tokens[10 + i], 3);
            GeneratedToken got = r.tokens.get(i);
            assertThat(got.logprob()).isEqualTo(expected.chosen().logprob());
            assertThat(got.topLogprobs()).isEqualTo(expected.top());
        }
    }

    @Test
    void reportsPromptLogprobsEvenWithZeroMaxTokens() {
        Scheduler s = scheduler(withBlocks(64).withMaxBatchTokens(16));
        int[] prompt = prompt(8, 40);
        Recorder r = submit(s, new GenerationRequest(prompt, SamplingParams.GREEDY, 0, 2, true, Set.of(), false));
        runUntilIdle(s);

        assertThat(r.reason).isEqualTo(FinishReason.LENGTH);
        assertThat(r.generated).isZero();
        assertThat(r.tokens).isEmpty();
        assertThat(r.promptLogprobs).hasSize(40);
        assertThat(r.promptLogprobs.getFirst()).isNull();
        for (int p = 1; p < 40; p++) {
            Logprobs expected = Logprobs.of(model.logits(prompt, p), 0, VOCAB, prompt[p], 2);
            GeneratedToken got = r.promptLogprobs.get(p);
            assertThat(got.id()).isEqualTo(prompt[p]);
            assertThat(got.text()).isEqualTo("<" + prompt[p] + ">");
            assertThat(got.logprob()).as("position %d", p).isEqualTo(expected.chosen().logprob());
            assertThat(got.topLogprobs()).isEqualTo(expected.top());
        }
    }

    @Test
    void promptsNeedingLogprobsAreComputedInSmallChunks() {
        model.recordHistory = true;
        Scheduler s = scheduler(withBlocks(64));
        Recorder r = submit(s, new GenerationRequest(prompt(19, 300), SamplingParams.GREEDY, 1, -1, true, Set.of(), false));
        runUntilIdle(s);

        assertThat(model.history).extracting(chunks -> chunks.getFirst().tokens().length)
                .containsExactly(Scheduler.MAX_PROMPT_LOGIT_ROWS, Scheduler.MAX_PROMPT_LOGIT_ROWS, 300 - 2 * Scheduler.MAX_PROMPT_LOGIT_ROWS);
        assertThat(r.promptLogprobs).hasSize(300);
        assertThat(r.promptLogprobs.subList(1, 300)).doesNotContainNull();
    }

    // ---- prefix cache ----------------------------------------------------------------------------------------

    @Test
    void aCachedPrefixSkipsItsPrefillAndIsReported() {
        Scheduler s = scheduler(withBlocks(64));
        int[] first = prompt(9, 40);
        Recorder a = submit(s, GenerationRequest.of(first, SamplingParams.GREEDY, 2));
        runUntilIdle(s);
        assertThat(a.cachedPromptTokens).isZero();

        int[] second = Arrays.copyOf(first, 45);
        System.arraycopy(prompt(10, 10), 0, second, 35, 10);
        long before = model.tokensProcessed;
        Recorder b = submit(s, GenerationRequest.of(second, SamplingParams.GREEDY, 5));
        runUntilIdle(s);

        assertThat(b.cachedPromptTokens).as("two whole blocks of the shared 35 tokens").isEqualTo(32);
        assertThat(model.tokensProcessed - before).as("13 prompt tokens and 4 decode tokens").isEqualTo(13 + 4);
        assertThat(b.ids()).containsExactly(reference(second, SamplingParams.GREEDY, 5));
        assertThat(s.stats().prefixHitTokens()).isEqualTo(32);
        assertThat(s.stats().prefixQueryTokens()).isEqualTo(39 + 44);
    }

    @Test
    void aRequestThatMayNotReuseCachedPrefixesComputesItsWholePromptAndStillCachesIt() {
        Scheduler s = scheduler(withBlocks(64));
        int[] prompt = prompt(11, 40);
        submit(s, GenerationRequest.of(prompt, SamplingParams.GREEDY, 2));
        runUntilIdle(s);

        long before = model.tokensProcessed;
        Recorder cold = submit(s, GenerationRequest.of(prompt, SamplingParams.GREEDY, 2).withCachedPrefix(false));
        runUntilIdle(s);
        assertThat(cold.cachedPromptTokens).isZero();
        assertThat(model.tokensProcessed - before).as("all 40 prompt tokens and 1 decode token").isEqualTo(40 + 1);
        assertThat(cold.ids()).containsExactly(reference(prompt, SamplingParams.GREEDY, 2));

        Recorder warm = submit(s, GenerationRequest.of(prompt, SamplingParams.GREEDY, 2));
        runUntilIdle(s);
        assertThat(warm.cachedPromptTokens).isEqualTo(32);
        assertNoBlocksInUse(s);
    }

    @Test
    void generatedTokensAreCachedToo() {
        Scheduler s = scheduler(withBlocks(64));
        int[] first = prompt(11, 10);
        Recorder a = submit(s, GenerationRequest.of(first, SamplingParams.GREEDY, 30));
        runUntilIdle(s);

        int[] conversation = IntStream.concat(Arrays.stream(first), Arrays.stream(a.ids())).toArray();
        int[] followUp = IntStream.concat(Arrays.stream(conversation), Arrays.stream(prompt(12, 5))).toArray();
        Recorder b = submit(s, GenerationRequest.of(followUp, SamplingParams.GREEDY, 3));
        runUntilIdle(s);

        assertThat(b.cachedPromptTokens).as("the 39 positions with KV hold two whole blocks").isEqualTo(32);
        assertThat(b.ids()).containsExactly(reference(followUp, SamplingParams.GREEDY, 3));
    }

    @Test
    void promptLogprobsBypassThePrefixCache() {
        Scheduler s = scheduler(withBlocks(64));
        int[] prompt = prompt(13, 40);
        submit(s, GenerationRequest.of(prompt, SamplingParams.GREEDY, 1));
        runUntilIdle(s);

        Recorder r = submit(s, new GenerationRequest(prompt, SamplingParams.GREEDY, 1, -1, true, Set.of(), false));
        runUntilIdle(s);
        assertThat(r.cachedPromptTokens).isZero();
        assertThat(r.promptLogprobs).hasSize(40);
        assertThat(r.promptLogprobs.get(1).topLogprobs()).isEmpty();
    }

    @Test
    void evictsCachedPrefixesOnlyWhenMemoryIsNeeded() {
        Scheduler s = scheduler(withBlocks(8));
        int[] first = prompt(14, 33);
        submit(s, GenerationRequest.of(first, SamplingParams.GREEDY, 1));
        runUntilIdle(s);
        assertThat(s.stats().kvBlocksCached()).isEqualTo(2);

        submit(s, GenerationRequest.of(prompt(15, 100), SamplingParams.GREEDY, 1));
        runUntilIdle(s);
        assertThat(s.stats().kvBlocksCached()).as("6 new full blocks cached; one old block had to go").isEqualTo(7);
        Recorder again = submit(s, GenerationRequest.of(first, SamplingParams.GREEDY, 1));
        runUntilIdle(s);
        assertThat(again.cachedPromptTokens).as("the older prefix's tail was evicted first").isEqualTo(16);
    }

    // ---- n > 1 -----------------------------------------------------------------------------------------------

    @Test
    void sequencesOfOneRequestShareThePromptAndCopyTheLastBlockOnWrite() {
        model.recordHistory = true;
        Scheduler s = scheduler(withBlocks(64));
        int[] prompt = prompt(16, 21);
        List<Recorder> rs = List.of(new Recorder(), new Recorder(), new Recorder());
        List<GenerationHandle> handles = s.submit(GenerationRequest.of(prompt, sampled(100), 10), List.copyOf(rs));
        runUntilIdle(s);

        assertThat(handles).hasSize(3).allMatch(GenerationHandle::isDone);
        assertThat(model.history.getFirst()).as("the prompt is computed once").hasSize(1);
        assertThat(model.lastCache.copies).as("two sequences copy the shared partial block").hasSize(2);
        for (int i = 0; i < 3; i++) {
            assertThat(rs.get(i).ids()).as("sequence %d samples with seed 100+%d", i, i)
                    .containsExactly(reference(prompt, sampled(100 + i), 10));
            assertThat(rs.get(i).reason).isEqualTo(FinishReason.LENGTH);
        }
        assertThat(rs.get(0).ids()).isNotEqualTo(rs.get(1).ids());
        assertNoBlocksInUse(s);
    }

    @Test
    void everySequenceOfAGroupGetsThePromptLogprobs() {
        Scheduler s = scheduler(withBlocks(64));
        List<Recorder> rs = List.of(new Recorder(), new Recorder());
        s.submit(new GenerationRequest(prompt(18, 12), sampled(1), 3, 1, true, Set.of(), false), List.copyOf(rs));
        runUntilIdle(s);

        assertThat(rs.get(0).promptLogprobs).hasSize(12);
        assertThat(rs.get(1).promptLogprobs).isEqualTo(rs.get(0).promptLogprobs);
        assertThat(rs.get(1).ids()).containsExactly(reference(prompt(18, 12), sampled(2), 3));
    }

    @Test
    void aCancelledMemberOfAGroupLeavesTheOthersRunning() {
        Scheduler s = scheduler(withBlocks(64));
        int[] prompt = prompt(17, 30);
        List<Recorder> rs = List.of(new Recorder(), new Recorder());
        List<GenerationHandle> handles = s.submit(GenerationRequest.of(prompt, sampled(3), 6), List.copyOf(rs));
        handles.get(0).cancel();
        runUntilIdle(s);

        assertThat(rs.get(0).reason).isEqualTo(FinishReason.CANCELLED);
        assertThat(rs.get(0).tokens).isEmpty();
        assertThat(rs.get(1).ids()).containsExactly(reference(prompt, sampled(4), 6));
        assertNoBlocksInUse(s);
    }

    // ---- admission, preemption, cancellation -----------------------------------------------------------------

    @Test
    void aFullQueueRefusesWithARetryHint() {
        Scheduler s = scheduler(withBlocks(64).withMaxQueue(2));
        submit(s, GenerationRequest.of(prompt(1, 5), SamplingParams.GREEDY, 1));
        submit(s, GenerationRequest.of(prompt(2, 5), SamplingParams.GREEDY, 1));

        assertThatThrownBy(() -> submit(s, GenerationRequest.of(prompt(3, 5), SamplingParams.GREEDY, 1)))
                .isInstanceOfSatisfying(QueueFullException.class, e -> {
                    assertThat(e.queueLength()).isEqualTo(2);
                    assertThat(e.retryAfterSeconds()).isPositive();
                });
        assertThat(s.stats().queued()).isEqualTo(2);

        s.step();
        assertThat(s.stats().queued()).isZero();
        submit(s, GenerationRequest.of(prompt(3, 5), SamplingParams.GREEDY, 1));
    }

    @Test
    void rejectsRequestsThatDoNotFitTheModel() {
        Scheduler s = scheduler(withBlocks(4));
        assertThatThrownBy(() -> submit(s, GenerationRequest.of(new int[] {1, VOCAB}, SamplingParams.GREEDY, 1)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("prompt token 64 at position 1");
        assertThatThrownBy(() -> submit(s, GenerationRequest.of(prompt(1, 65), SamplingParams.GREEDY, 1)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("65 tokens but the context length is 64");
        assertThatThrownBy(() -> submit(s, new GenerationRequest(prompt(1, 5), SamplingParams.GREEDY, 1, 21, false, Set.of(), false)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("logprobs");
        assertThat(s.stats().queued()).isZero();
    }

    @Test
    void preemptsTheNewestSequenceWhenBlocksRunOutAndResumesItWithTheSameOutput() {
        // 12 blocks of 16: four sequences of 10 + 60 tokens need 20 blocks at the end.
        Scheduler s = scheduler(withBlocks(12));
        List<Recorder> rs = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            rs.add(submit(s, new GenerationRequest(prompt(30 + i, 10), sampled(i), 60, 2, false, Set.of(), false)));
        }
        runUntilIdle(s);

        assertThat(s.stats().preemptions()).isPositive();
        for (int i = 0; i < 4; i++) {
            assertThat(rs.get(i).reason).isEqualTo(FinishReason.LENGTH);
            assertThat(rs.get(i).ids()).as("sequence %d", i).containsExactly(reference(prompt(30 + i, 10), sampled(i), 60));
        }
        assertNoBlocksInUse(s);
    }

    @Test
    void thePreemptedSequenceIsTheNewest() {
        Scheduler s = scheduler(withBlocks(4));
        Recorder older = submit(s, GenerationRequest.of(prompt(40, 30), SamplingParams.GREEDY, 20));
        Recorder newer = submit(s, GenerationRequest.of(prompt(41, 30), SamplingParams.GREEDY, 20));
        for (int i = 0; i < 3; i++) s.step();
        assertThat(s.stats().preemptions()).isZero();
        s.step(); // both need a third block for position 32; only the older gets one
        assertThat(s.stats().preemptions()).isEqualTo(1);
        assertThat(s.stats().running()).isEqualTo(1);
        assertThat(older.tokens).hasSize(4);
        assertThat(newer.tokens).hasSize(3);
        runUntilIdle(s);
        assertThat(newer.ids()).containsExactly(reference(prompt(41, 30), SamplingParams.GREEDY, 20));
    }

    @Test
    void cancellingARunningSequenceFreesItsBlocksAtTheNextStep() {
        Scheduler s = scheduler(withBlocks(64));
        Recorder r = new Recorder();
        GenerationHandle h = s.submit(GenerationRequest.of(prompt(50, 40), SamplingParams.GREEDY, 100), List.of(r)).getFirst();
        s.step();
        s.step();
        assertThat(s.stats().kvBlocksUsed()).isEqualTo(3);

        h.cancel();
        assertThat(h.isDone()).isFalse();
        assertThat(s.step()).as("nothing left to compute").isFalse();

        assertThat(h.isDone()).isTrue();
        assertThat(r.reason).isEqualTo(FinishReason.CANCELLED);
        assertThat(r.generated).isEqualTo(2);
        assertNoBlocksInUse(s);
    }

    @Test
    void cancellingAWaitingRequestFreesItsQueuePlace() {
        Scheduler s = scheduler(withBlocks(64).withMaxQueue(1));
        Recorder r = new Recorder();
        GenerationHandle h = s.submit(GenerationRequest.of(prompt(51, 4), SamplingParams.GREEDY, 5), List.of(r)).getFirst();
        h.cancel();
        s.step();
        assertThat(r.reason).isEqualTo(FinishReason.CANCELLED);
        assertThat(r.generated).isZero();
        assertThat(s.stats().queued()).isZero();
        assertThat(model.forwardCalls).isZero();
    }

    @Test
    void aListenerThatThrowsLosesOnlyItsOwnSequence() {
        Scheduler s = scheduler(withBlocks(64));
        Recorder broken = new Recorder() {
            @Override
            public void onToken(GeneratedToken token) {
                super.onToken(token);
                throw new IllegalStateException("client went away");
            }
        };
        s.submit(GenerationRequest.of(prompt(52, 8), SamplingParams.GREEDY, 10), List.of(broken));
        Recorder fine = submit(s, GenerationRequest.of(prompt(53, 8), SamplingParams.GREEDY, 10));
        runUntilIdle(s);

        assertThat(broken.reason).isEqualTo(FinishReason.CANCELLED);
        assertThat(broken.tokens).hasSize(1);
        assertThat(fine.ids()).containsExactly(reference(prompt(53, 8), SamplingParams.GREEDY, 10));
        assertNoBlocksInUse(s);
    }

    @Test
    void aFailingForwardPassFailsItsSequencesAndFreesTheirBlocks() {
        model = new FakeLanguageModel(VOCAB, 4096) {
            @Override
            public float[] forward(List<SequenceChunk> chunks, dev.quill.engine.model.KvCache cache) {
                if (forwardCalls == 1) throw new IllegalStateException("kernel exploded");
                return super.forward(chunks, cache);
            }
        };
        Scheduler s = scheduler(withBlocks(64));
        Recorder r = submit(s, GenerationRequest.of(prompt(54, 8), SamplingParams.GREEDY, 10));
        runUntilIdle(s);

        assertThat(r.error).hasMessage("kernel exploded");
        assertThat(r.reason).isNull();
        assertNoBlocksInUse(s);
    }

    @Test
    void closingCancelsEverythingAndRefusesNewWork() {
        Scheduler s = scheduler(withBlocks(64));
        Recorder running = submit(s, GenerationRequest.of(prompt(55, 8), SamplingParams.GREEDY, 100));
        s.step();
        Recorder waiting = submit(s, GenerationRequest.of(prompt(56, 8), SamplingParams.GREEDY, 100));

        s.close();
        s.run(); // returns at once: the loop is closed

        assertThat(running.reason).isEqualTo(FinishReason.CANCELLED);
        assertThat(waiting.reason).isEqualTo(FinishReason.CANCELLED);
        assertNoBlocksInUse(s);
        assertThat(s.stats().queued()).isZero();
        assertThatThrownBy(() -> submit(s, GenerationRequest.of(prompt(57, 8), SamplingParams.GREEDY, 1)))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("closed");
    }

    @Test
    void theLoopThreadServesSubmissionsFromOtherThreads() throws Exception {
        Scheduler s = scheduler(withBlocks(64));
        Thread loop = Thread.ofPlatform().name("engine-test").start(s);
        try {
            List<Recorder> rs = new ArrayList<>();
            for (int i = 0; i < 5; i++) rs.add(submit(s, GenerationRequest.of(prompt(60 + i, 7), sampled(i), 9)));
            for (int i = 0; i < 5; i++) {
                assertThat(rs.get(i).ended.await(10, TimeUnit.SECONDS)).isTrue();
                assertThat(rs.get(i).ids()).containsExactly(reference(prompt(60 + i, 7), sampled(i), 9));
            }
        } finally {
            s.close();
            loop.join(10_000);
        }
        assertThat(loop.isAlive()).isFalse();
    }

    @Test
    void aStepHandsAllItsListenerCallsToTheDeliveryExecutorAsOneTaskInOrder() {
        List<Runnable> handedOver = new ArrayList<>();
        Scheduler s = new Scheduler(model, new FakeTokenizer(VOCAB, eog), withBlocks(64), handedOver::add);
        Recorder a = submit(s, GenerationRequest.of(prompt(61, 8), SamplingParams.GREEDY, 5));
        Recorder b = submit(s, GenerationRequest.of(prompt(62, 8), SamplingParams.GREEDY, 5));

        s.step(); // both prompts: one token each, one task, nothing called yet
        assertThat(handedOver).hasSize(1);
        assertThat(a.tokens).isEmpty();
        assertThat(b.tokens).isEmpty();
        handedOver.removeFirst().run();
        assertThat(a.tokens).hasSize(1);
        assertThat(b.tokens).hasSize(1);

        int steps = 0;
        while (s.step()) {
            steps++;
            assertThat(handedOver).hasSize(1);
            handedOver.removeFirst().run();
        }
        assertThat(steps).isEqualTo(4); // four more tokens each; the last step also finishes both
        assertThat(a.ids()).containsExactly(reference(prompt(61, 8), SamplingParams.GREEDY, 5));
        assertThat(b.ids()).containsExactly(reference(prompt(62, 8), SamplingParams.GREEDY, 5));
        assertThat(a.reason).isEqualTo(FinishReason.LENGTH);
        assertThat(b.reason).isEqualTo(FinishReason.LENGTH);
        assertThat(handedOver).isEmpty();
    }

    // ---- speculative decoding --------------------------------------------------------------------------------

    /** Runs one request alone on a fresh scheduler and returns what it reported. */
    Recorder runAlone(EngineOptions options, GenerationRequest request) {
        Scheduler s = scheduler(options);
        Recorder r = submit(s, request);
        runUntilIdle(s);
        assertNoBlocksInUse(s);
        lastStats = s.stats();
        return r;
    }

    EngineStats lastStats;

    @Test
    void speculationGivesExactlyTheOutputOfOneTokenAtATimeInFewerPasses() {
        model.repeatPeriod = 3;
        int[] prompt = prompt(21, 12);
        var request = new GenerationRequest(prompt, SamplingParams.GREEDY, 60, 2, false, Set.of(), false);

        Recorder plain = runAlone(withBlocks(64), request);
        int plainPasses = model.forwardCalls;
        model.forwardCalls = 0;
        model.tokensProcessed = 0;
        Recorder guessed = runAlone(withBlocks(64).withSpeculativeTokens(3), request);

        assertThat(guessed.ids()).containsExactly(plain.ids()).containsExactly(reference(prompt, SamplingParams.GREEDY, 60));
        assertThat(guessed.logprobs()).containsExactly(plain.logprobs());
        for (int i = 0; i < plain.tokens.size(); i++) {
            assertThat(guessed.tokens.get(i)).isEqualTo(plain.tokens.get(i));
        }
        assertThat(guessed.reason).isEqualTo(FinishReason.LENGTH);
        assertThat(guessed.generated).isEqualTo(60);
        assertThat(lastStats.keptGuesses()).as("guesses were kept").isPositive();
        assertThat(lastStats.guessedTokens()).as("and some were wrong").isGreaterThan(lastStats.keptGuesses());
        assertThat(lastStats.generatedTokens()).isEqualTo(60);
        assertThat(model.forwardCalls).as("kept guesses save passes").isLessThan(plainPasses - 10);
        assertThat(model.tokensProcessed).as("the prompt once, then each pass's last token and its guesses: nothing recomputed")
                .isEqualTo(12 + (model.forwardCalls - 1) + lastStats.guessedTokens());
    }

    @Test
    void speculationKeepsSeededSamplingOnItsOwnRandomStream() {
        model.repeatPeriod = 2;
        int[] prompt = prompt(22, 9);
        var request = new GenerationRequest(prompt, sampled(99), 50, 0, false, Set.of(), false);

        Recorder plain = runAlone(withBlocks(64), request);
        Recorder guessed = runAlone(withBlocks(64).withSpeculativeTokens(8), request);

        assertThat(guessed.ids()).containsExactly(plain.ids()).containsExactly(reference(prompt, sampled(99), 50));
        assertThat(guessed.logprobs()).containsExactly(plain.logprobs());
        assertThat(lastStats.keptGuesses()).isPositive();
    }

    @Test
    void aStopTokenAmongTheGuessesEndsTheSequenceThereAndMaxTokensHolds() {
        model.repeatPeriod = 1;
        int[] prompt = prompt(23, 8);
        model.eosToken = 2;
        model.eosAfter = 8 + 17;
        eog = Set.of(2);
        var request = GenerationRequest.of(prompt, SamplingParams.GREEDY, 40);

        Recorder plain = runAlone(withBlocks(64), request);
        Recorder guessed = runAlone(withBlocks(64).withSpeculativeTokens(3), request);

        assertThat(plain.reason).isEqualTo(FinishReason.STOP);
        assertThat(guessed.ids()).containsExactly(plain.ids()).hasSize(17);
        assertThat(guessed.reason).isEqualTo(FinishReason.STOP);
        assertThat(guessed.stopToken).isEqualTo(2);

        model.eosToken = -1;
        Recorder capped = runAlone(withBlocks(64).withSpeculativeTokens(3), GenerationRequest.of(prompt, SamplingParams.GREEDY, 7));
        assertThat(capped.ids()).containsExactly(reference(prompt, SamplingParams.GREEDY, 7));
        assertThat(capped.reason).isEqualTo(FinishReason.LENGTH);
    }

    @Test
    void aNewSequenceStartsFromHowWellTheGuessesOfEarlierOnesHeld() {
        model.repeatPeriod = 1;
        model.recordHistory = true;
        Scheduler s = scheduler(withBlocks(64).withSpeculativeTokens(3));
        List<Integer> firstGuessChunk = new ArrayList<>();
        for (long seed : new long[] {26, 27}) {
            int before = model.history.size();
            Recorder r = submit(s, GenerationRequest.of(prompt(seed, 10), SamplingParams.GREEDY, 30));
            runUntilIdle(s);
            assertThat(r.ids()).containsExactly(reference(prompt(seed, 10), SamplingParams.GREEDY, 30));
            firstGuessChunk.add(model.history.subList(before, model.history.size()).stream()
                    .filter(pass -> pass.getFirst().allLogits()).findFirst().orElseThrow().getFirst().tokens().length);
        }
        assertThat(firstGuessChunk).as("one guess knowing nothing, three after a sequence whose guesses held")
                .containsExactly(2, 4);
    }

    @Test
    void aPredictedOutputIsGuessedFromWhereItHoldsAndRejoinedAfterAnEdit() {
        int[] prompt = prompt(28, 10);
        int[] expected = reference(prompt, SamplingParams.GREEDY, 40);
        int[] predicted = expected.clone();
        predicted[19] = (predicted[19] + 1) % VOCAB; // the output departs from the prediction here, then rejoins it
        var request = GenerationRequest.of(prompt, SamplingParams.GREEDY, 40).withPrediction(predicted);

        Recorder r = runAlone(withBlocks(64).withSpeculativeTokens(3), request);

        assertThat(r.ids()).containsExactly(expected);
        // Three guesses and the token after them per pass: at most 3 of every 4 tokens can be kept guesses.
        assertThat(lastStats.keptGuesses()).as("most tokens came from the prediction").isGreaterThan(24);
        assertThat(lastStats.guessedTokens() - lastStats.keptGuesses()).as("the edited token was guessed wrong").isBetween(1L, 6L);
    }

    @Test
    void theLastPromptTokenIsComputedWithoutGuessesSoPromptLogprobsComeFirst() {
        // The prompt ends with a three-token pattern seen before, and the budget leaves its last token to a step alone.
        int[] prompt = {5, 6, 7, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 5, 6, 7};
        var request = new GenerationRequest(prompt, SamplingParams.GREEDY, 5, 1, true, Set.of(), false);
        List<String> events = new CopyOnWriteArrayList<>();
        Recorder r = new Recorder() {
            @Override
            public void onPromptLogprobs(List<GeneratedToken> promptTokens) {
                events.add("prompt logprobs");
                super.onPromptLogprobs(promptTokens);
            }

            @Override
            public void onToken(GeneratedToken token) {
                events.add("token");
                super.onToken(token);
            }
        };
        model.recordHistory = true;
        Scheduler s = scheduler(withBlocks(64).withSpeculativeTokens(3).withMaxBatchTokens(18));
        s.submit(request, List.of(r));
        runUntilIdle(s);

        assertThat(model.history.get(1).getFirst().tokens()).as("the last prompt token, alone").containsExactly(7);
        assertThat(events.getFirst()).isEqualTo("prompt logprobs");
        assertThat(r.promptLogprobs).hasSize(prompt.length);
        assertThat(r.ids()).containsExactly(reference(prompt, SamplingParams.GREEDY, 5));
        assertNoBlocksInUse(s);
    }

    @Test
    void twoSequencesGuessOneTokenEachAndThreeDoNotGuess() {
        model.repeatPeriod = 1;
        model.recordHistory = true;
        Scheduler two = scheduler(withBlocks(64).withSpeculativeTokens(3));
        Recorder a = submit(two, GenerationRequest.of(prompt(24, 10), SamplingParams.GREEDY, 20));
        Recorder b = submit(two, GenerationRequest.of(prompt(25, 10), SamplingParams.GREEDY, 20));
        runUntilIdle(two);

        assertThat(a.ids()).containsExactly(reference(prompt(24, 10), SamplingParams.GREEDY, 20));
        assertThat(b.ids()).containsExactly(reference(prompt(25, 10), SamplingParams.GREEDY, 20));
        assertThat(two.stats().keptGuesses()).isPositive();
        List<List<SequenceChunk>> guessedPasses = model.history.stream()
                .filter(pass -> pass.stream().anyMatch(SequenceChunk::allLogits)).toList();
        assertThat(guessedPasses).isNotEmpty().allSatisfy(pass -> {
            assertThat(pass).as("both guess, one token each").hasSize(2)
                    .allSatisfy(c -> assertThat(c.tokens()).hasSize(2));
        });
        assertNoBlocksInUse(two);

        model.history.clear();
        Scheduler three = scheduler(withBlocks(64).withSpeculativeTokens(3));
        List<Recorder> rs = new ArrayList<>();
        for (long seed = 30; seed < 33; seed++) rs.add(submit(three, GenerationRequest.of(prompt(seed, 10), SamplingParams.GREEDY, 20)));
        runUntilIdle(three);
        for (int i = 0; i < 3; i++) assertThat(rs.get(i).ids()).containsExactly(reference(prompt(30 + i, 10), SamplingParams.GREEDY, 20));
        assertThat(three.stats().guessedTokens()).isZero();
        assertNoBlocksInUse(three);
    }

    @Test
    void outputIsBitIdenticalAloneOrAmongFifteenOthers() {
        int n = 16;
        List<GenerationRequest> requests = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            requests.add(new GenerationRequest(prompt(70 + i, 5 + 13 * i), sampled(1000 + i), 8 + 3 * i, 3, false, Set.of(), false));
        }
        List<Recorder> alone = new ArrayList<>();
        for (GenerationRequest r : requests) {
            Scheduler s = scheduler(withBlocks(64));
            alone.add(submit(s, r));
            runUntilIdle(s);
        }
        Scheduler together = scheduler(withBlocks(40).withMaxBatchTokens(64));
        List<Recorder> crowd = requests.stream().map(r -> submit(together, r)).toList();
        runUntilIdle(together);

        for (int i = 0; i < n; i++) {
            assertThat(crowd.get(i).ids()).as("tokens of request %d", i).containsExactly(alone.get(i).ids());
            assertThat(crowd.get(i).logprobs()).as("logprobs of request %d", i).containsExactly(alone.get(i).logprobs());
            assertThat(crowd.get(i).tokens).isEqualTo(alone.get(i).tokens);
        }
        assertThat(model.largestBatch).as("requests really were batched").isGreaterThan(16);
    }

    @Test
    void noBlockLeaksAfterThousandsOfRandomRequestsWithCancellations() {
        Random random = new Random(7);
        Scheduler s = scheduler(withBlocks(24).withMaxBatchTokens(48).withMaxSequences(8).withMaxQueue(1000));
        int[] shared = prompt(80, 40);
        List<Recorder> all = new ArrayList<>();
        List<GenerationHandle> handles = new ArrayList<>();
        for (int round = 0; round < 600; round++) {
            for (int k = random.nextInt(4); k > 0; k--) {
                int length = 1 + random.nextInt(60);
                int[] p = random.nextBoolean() ? Arrays.copyOf(shared, Math.min(length, 40)) : prompt(random.nextLong(), length);
                int n = random.nextInt(5) == 0 ? 2 + random.nextInt(2) : 1;
                List<GenerationListener> ls = new ArrayList<>();
                for (int j = 0; j < n; j++) {
                    Recorder r = new Recorder();
                    all.add(r);
                    ls.add(r);
                }
                var request = new GenerationRequest(p, sampled(random.nextLong()), random.nextInt(30),
                        random.nextInt(3) - 1, random.nextInt(10) == 0, Set.of(), false);
                handles.addAll(s.submit(request, ls));
            }
            for (GenerationHandle h : handles) {
                if (!h.isDone() && random.nextInt(15) == 0) h.cancel();
            }
            s.step();
        }
        runUntilIdle(s);

        assertThat(all.size()).isGreaterThan(900);
        assertThat(all).allMatch(r -> r.reason != null && r.error == null);
        assertThat(all).anyMatch(r -> r.reason == FinishReason.CANCELLED);
        assertThat(handles).allMatch(GenerationHandle::isDone);
        EngineStats st = s.stats();
        assertThat(st.running()).isZero();
        assertThat(st.queued()).isZero();
        assertNoBlocksInUse(s);
        assertThat(st.prefixHitTokens()).isPositive();
        assertThat(st.preemptions()).isPositive();
    }

    @Test
    void noBlockLeaksWithSpeculationPreemptionAndCancellations() {
        model.repeatPeriod = 2;
        Random random = new Random(11);
        Scheduler s = scheduler(withBlocks(8).withMaxBatchTokens(64).withSpeculativeTokens(3).withMaxQueue(1000));
        List<Recorder> all = new ArrayList<>();
        List<GenerationHandle> handles = new ArrayList<>();
        List<int[]> prompts = new ArrayList<>();
        List<GenerationRequest> requests = new ArrayList<>();
        for (int round = 0; round < 3000; round++) {
            if (random.nextInt(12) == 0) {
                int[] p = prompt(random.nextLong(), 1 + random.nextInt(50));
                var request = new GenerationRequest(p, random.nextBoolean() ? SamplingParams.GREEDY : sampled(random.nextLong()),
                        1 + random.nextInt(40), random.nextInt(3) - 1, false, Set.of(), false);
                Recorder r = new Recorder();
                all.add(r);
                prompts.add(p);
                requests.add(request);
                handles.addAll(s.submit(request, List.of(r)));
            }
            for (GenerationHandle h : handles) {
                if (!h.isDone() && random.nextInt(200) == 0) h.cancel();
            }
            s.step();
        }
        runUntilIdle(s);

        EngineStats st = s.stats();
        assertThat(all).allMatch(r -> r.reason != null && r.error == null);
        assertThat(st.running()).isZero();
        assertNoBlocksInUse(s);
        assertThat(st.guessedTokens()).isGreaterThan(st.keptGuesses()).isGreaterThan(0);
        assertThat(st.keptGuesses()).isPositive();
        assertThat(st.preemptions()).isPositive();
        for (int i = 0; i < all.size(); i++) {
            Recorder r = all.get(i);
            if (r.reason == FinishReason.CANCELLED) continue;
            int[] expected = reference(prompts.get(i), requests.get(i).sampling(), requests.get(i).maxTokens());
            assertThat(r.ids()).as("request %d", i).containsExactly(expected);
        }
    }
}
