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
 * makes of given model output, e.g. tool calls in a family's format.
 */
final class ScriptedEngine implements Engine {

    private final FakeTokenizer tokenizer = new FakeTokenizer(false);
    private final String chatTemplate;
    private final Function<GenerationRequest, String> script;
    final List<GenerationRequest> requests = new CopyOnWriteArrayList<>();

    /** @param chatTemplate the model's template (it decides the tool-call format), or null */
    ScriptedEngine(String chatTemplate, Function<GenerationRequest, String> script) {
        this.chatTemplate = chatTemplate;
        this.script = script;
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
        int[] ids = tokenizer.encode(script.apply(request), false, false);
        List<GenerationHandle> handles = new ArrayList<>();
        for (GenerationListener listener : listeners) {
            Tokenizer.StreamingDecoder decoder = tokenizer.newStreamingDecoder();
            int n = Math.min(ids.length, request.maxTokens());
            for (int i = 0; i < n; i++) listener.onToken(new GeneratedToken(ids[i], decoder.next(ids[i]), Float.NaN, List.of()));
            if (n < ids.length) {
                listener.onFinish(FinishReason.LENGTH, -1, Float.NaN, request.prompt().length, n, 0);
            } else {
                listener.onFinish(FinishReason.STOP, FakeTokenizer.EOS, Float.NaN, request.prompt().length, n + 1, 0);
            }
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
