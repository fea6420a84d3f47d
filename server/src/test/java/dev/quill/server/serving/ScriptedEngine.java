package dev.quill.server.serving;

import dev.quill.engine.Engine;
import dev.quill.engine.EngineStats;
import dev.quill.engine.FinishReason;
import dev.quill.engine.GeneratedToken;
import dev.quill.engine.GenerationHandle;
import dev.quill.engine.GenerationListener;
import dev.quill.engine.GenerationRequest;
import dev.quill.engine.ModelInfo;
import dev.quill.engine.tokenizer.Tokenizer;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Function;

/**
 * An engine whose "model" writes whatever text the test scripts for the request (tokenized by {@link FakeTokenizer},
 * so tokens are mostly single characters), then ends with EOS, or stops at max_tokens. For testing what the server
 * makes of given model output, e.g. tool calls in a family's format. Tests that need exact listener calls (logprobs,
 * how a sequence ends) script those instead ({@link Sequence}).
 */
final class ScriptedEngine implements Engine {

    /** What the "model" tells the listener of sequence {@code index} of a request, in order. */
    interface Sequence {
        void play(GenerationRequest request, int index, GenerationListener listener);
    }

    private static final FakeTokenizer TOKENIZER = new FakeTokenizer(false);

    private final FakeTokenizer tokenizer = TOKENIZER;
    private final String chatTemplate;
    private final Sequence sequence;
    final List<GenerationRequest> requests = new CopyOnWriteArrayList<>();

    /** @param chatTemplate the model's template (it decides the tool-call format), or null */
    ScriptedEngine(String chatTemplate, Function<GenerationRequest, String> script) {
        this(chatTemplate, (request, index, listener) -> recite(script.apply(request), request, listener));
    }

    ScriptedEngine(String chatTemplate, Sequence sequence) {
        this.chatTemplate = chatTemplate;
        this.sequence = sequence;
    }

    /** The text's tokens up to max_tokens, then EOS if the text fit; no logprobs. */
    private static void recite(String text, GenerationRequest request, GenerationListener listener) {
        int[] ids = TOKENIZER.encode(text, false, false);
        Tokenizer.StreamingDecoder decoder = TOKENIZER.newStreamingDecoder();
        int n = Math.min(ids.length, request.maxTokens());
        for (int i = 0; i < n; i++) listener.onToken(new GeneratedToken(ids[i], decoder.next(ids[i]), Float.NaN, List.of()));
        if (n < ids.length) {
            listener.onFinish(FinishReason.LENGTH, -1, Float.NaN, request.prompt().length, n, 0);
        } else {
            listener.onFinish(FinishReason.STOP, FakeTokenizer.EOS, Float.NaN, request.prompt().length, n + 1, 0);
        }
    }

    /** The prompt text of a request this engine received. */
    String prompt(GenerationRequest request) {
        return tokenizer.decode(request.prompt());
    }

    @Override
    public ModelInfo info() {
        return new ModelInfo("scripted", "fake", 8192, tokenizer.vocabSize(), chatTemplate, "fp_scripted");
    }

    @Override
    public Tokenizer tokenizer() {
        return tokenizer;
    }

    @Override
    public List<GenerationHandle> submit(GenerationRequest request, List<GenerationListener> listeners) {
        requests.add(request);
        List<GenerationHandle> handles = new ArrayList<>();
        for (int i = 0; i < listeners.size(); i++) {
            sequence.play(request, i, listeners.get(i));
            handles.add(new GenerationHandle() {
                @Override
                public void cancel() {}

                @Override
                public boolean isDone() {
                    return true;
                }
            });
        }
        return handles;
    }

    @Override
    public EngineStats stats() {
        return new EngineStats(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0);
    }

    @Override
    public void close() {}
}
