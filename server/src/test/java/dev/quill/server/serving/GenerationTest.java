package dev.quill.server.serving;

import static org.assertj.core.api.Assertions.assertThat;

import dev.quill.engine.Engine;
import dev.quill.engine.FinishReason;
import dev.quill.engine.GeneratedToken;
import dev.quill.engine.GenerationListener;
import dev.quill.engine.GenerationRequest;
import dev.quill.engine.sampling.SamplingParams;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.function.BiConsumer;
import org.junit.jupiter.api.Test;

class GenerationTest {

    private static final FakeTokenizer TOKENIZER = new FakeTokenizer(false);

    @Test
    void aCandidateIsScoredByTheMeanLogprobOfItsTokensAndTheStopTokenThatEndedIt() {
        int a = TOKENIZER.encode("a", false, false)[0];
        List<Generation.Result> results = run(2, (i, listener) -> {
            if (i == 0) {
                // An empty answer: the end-of-generation token at once, and an unlikely one.
                listener.onFinish(FinishReason.STOP, FakeTokenizer.EOS, -3.5f, 1, 1, 0);
            } else {
                listener.onToken(new GeneratedToken(a, "a", -2.0f, List.of()));
                listener.onToken(new GeneratedToken(a, "a", -3.0f, List.of()));
                listener.onFinish(FinishReason.STOP, FakeTokenizer.EOS, -1.0f, 1, 3, 0);
            }
        });

        assertThat(results.get(0).text.toString()).isEmpty();
        assertThat(results.get(0).meanLogprob()).isEqualTo(-3.5);
        assertThat(results.get(1).meanLogprob()).isEqualTo(-2.0);
        assertThat(results.get(1).meanLogprob()).isGreaterThan(results.get(0).meanLogprob());
    }

    @Test
    void aCandidateWithoutAnyScoredTokenRanksBelowEveryScoredOne() {
        List<Generation.Result> results = run(1, (i, listener) ->
                listener.onFinish(FinishReason.LENGTH, -1, Float.NaN, 1, 0, 0));

        assertThat(results.getFirst().meanLogprob()).isEqualTo(Double.NEGATIVE_INFINITY);
    }

    /** Runs {@code sequences} sequences of one prompt whose engine events {@code script} writes, per sequence. */
    private static List<Generation.Result> run(int sequences, BiConsumer<Integer, GenerationListener> script) {
        GenerationRequest request = new GenerationRequest(new int[] {1}, SamplingParams.GREEDY, 8, 0, false, Set.of(), false);
        List<SequenceOutput> outputs = new ArrayList<>();
        for (int i = 0; i < sequences; i++) {
            outputs.add(new SequenceOutput(TOKENIZER, List.of(), false, true, Set.of(FakeTokenizer.EOS), ContentFilter.NONE));
        }
        Engine engine = new ScriptedEngine(null, (r, i, listener) -> script.accept(i, listener));
        return Generation.run(engine, List.of(new Generation.Group(0, request, outputs)), Set.of(), Long.MAX_VALUE,
                new Generation.Observer() {});
    }
}
