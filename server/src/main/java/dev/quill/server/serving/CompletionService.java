package dev.quill.server.serving;

import dev.quill.engine.GeneratedToken;
import dev.quill.engine.GenerationRequest;
import dev.quill.engine.grammar.Grammar;
import dev.quill.engine.TokenLogprob;
import dev.quill.engine.tokenizer.Tokenizer;
import dev.quill.server.protocol.ApiException;
import dev.quill.server.protocol.CompletionRequest;
import dev.quill.server.protocol.CompletionResponse;
import dev.quill.server.protocol.GenerationOptions;
import dev.quill.server.protocol.Prompt;
import dev.quill.server.protocol.Usage;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.IntStream;

/** {@code POST /v1/completions}: prompts in, text out (whole or streamed). */
final class CompletionService {

    /** A tokenized prompt and the text echo returns for it. */
    private record PromptInput(int[] ids, String echoText, List<Object> loc) {}

    private CompletionService() {}

    /** Serves one request: returns the response body, or streams the response through the responder and returns null. */
    static CompletionResponse serve(Deployment d, CompletionRequest request, Responder responder) {
        long start = System.nanoTime();
        GenerationOptions o = request.options();
        Tokenizer tokenizer = d.tokenizer();
        RequestSettings.checkAgainstModel(o, d);
        if (!request.images().isEmpty()) {
            throw ApiException.invalid(List.of("body", "images", 0), null,
                    "Model '" + d.name() + "' is text-only; images are not supported");
        }
        List<PromptInput> prompts = tokenize(d, request);
        List<String> ignored = new ArrayList<>(o.ignoredParams());
        if (!o.tools().isEmpty()) ignored.add("tools"); // a raw prompt has no template to show tools to the model

        Grammar grammar = StructuredOutput.forCompletion(o);
        int candidates = o.candidates();
        boolean wantLogprobs = request.logprobs() != null;
        int engineLogprobs = wantLogprobs ? request.logprobs() : candidates > o.n() ? 0 : -1;
        List<Generation.Group> groups = new ArrayList<>();
        int[] promptOf = new int[prompts.size() * candidates];
        for (int i = 0; i < prompts.size(); i++) {
            PromptInput prompt = prompts.get(i);
            int maxTokens = RequestSettings.maxTokens(o, CompletionRequest.DEFAULT_MAX_TOKENS, prompt.ids().length,
                    d.contextLength(), prompt.loc());
            GenerationRequest g = new GenerationRequest(prompt.ids(), RequestSettings.sampling(o), maxTokens,
                    engineLogprobs, request.echo() && wantLogprobs, Set.copyOf(o.extensions().stopTokenIds()),
                    o.extensions().ignoreEos(), grammar).withPrediction(RequestSettings.predictedTokens(tokenizer, o))
                    .withCachedPrefix(o.extensions().cachePrompt());
            List<SequenceOutput> outputs = new ArrayList<>();
            for (int j = 0; j < candidates; j++) {
                outputs.add(newOutput(d, o));
                promptOf[i * candidates + j] = i;
            }
            groups.add(new Generation.Group(i, g, outputs));
        }

        String id = RequestSettings.newId("cmpl-");
        long created = System.currentTimeMillis() / 1000;
        Map<String, String> headers = RequestSettings.headers(id, ignored);
        Shape shape = new Shape(id, created, d.name(), d.info().fingerprint(), tokenizer, request.logprobs(), prompts);
        Set<Integer> userStops = Set.copyOf(o.extensions().stopTokenIds());
        long deadline = RequestSettings.deadline(o, start);

        if (!o.stream()) {
            List<Generation.Result> results = Generation.run(d.engine(), groups, userStops, deadline, new Generation.Observer() {});
            responder.headers(headers);
            return shape.response(results, request, o.n(), candidates);
        }
        SseStream sse = responder.openStream(headers);
        if (o.includeUsage()) sse.announceUsage();
        StreamObserver observer = new StreamObserver(shape, sse, request, promptOf, o);
        try {
            if (request.echo() && !wantLogprobs) {
                for (int s = 0; s < promptOf.length; s++) sse.send(shape.chunk(s, prompts.get(promptOf[s]).echoText(), null, null, null));
            }
            Generation.run(d.engine(), groups, userStops, deadline, observer);
            if (o.includeUsage()) sse.send(new CompletionResponse(id, CompletionResponse.OBJECT, created, d.name(),
                    d.info().fingerprint(), List.of(), observer.usage.usage()));
            sse.done();
        } catch (ApiException e) {
            sse.fail(e);
        }
        return null;
    }

    private static SequenceOutput newOutput(Deployment d, GenerationOptions o) {
        return new SequenceOutput(d.tokenizer(), o.stop(), o.extensions().includeStopStrInOutput(),
                o.extensions().skipSpecialTokens(), RequestSettings.terminators(d.tokenizer(), o), d.config().contentFilter());
    }

    private static List<PromptInput> tokenize(Deployment d, CompletionRequest request) {
        Tokenizer tokenizer = d.tokenizer();
        Boolean addSpecialOption = request.options().extensions().addSpecialTokens();
        boolean addSpecial = addSpecialOption == null || addSpecialOption;
        String suffix = request.suffix() == null || request.suffix().isEmpty() ? null : request.suffix();
        ContentFilter filter = d.config().contentFilter();
        filter.checkPrompt(suffix, List.of("body", "suffix"));
        FimTokens fim = null;
        if (suffix != null) {
            fim = d.fimTokens().orElseThrow(() -> ApiException.invalid(List.of("body", "suffix"), request.suffix(),
                    "Model '" + d.name() + "' has no fill-in-the-middle tokens, so suffix is not supported"));
        }
        List<Prompt> prompts = request.prompts().isEmpty() ? List.of(new Prompt.Text("")) : request.prompts();
        List<PromptInput> out = new ArrayList<>();
        for (int i = 0; i < prompts.size(); i++) {
            Prompt prompt = prompts.get(i);
            List<Object> loc = request.prompts().size() > 1 ? List.of("body", "prompt", i) : List.of("body", "prompt");
            int[] ids;
            String echo;
            switch (prompt) {
                case Prompt.Text text -> {
                    filter.checkPrompt(text.text(), loc);
                    echo = text.text();
                    ids = fim == null ? tokenizer.encode(text.text(), addSpecial, true) : tokenizer.encode(text.text(), false, true);
                }
                case Prompt.Tokens tokens -> {
                    int vocab = tokenizer.vocabSize();
                    for (int j = 0; j < tokens.ids().length; j++) {
                        if (tokens.ids()[j] >= vocab) {
                            List<Object> at = new ArrayList<>(tokens.loc());
                            at.add(j);
                            throw ApiException.invalid(at, tokens.ids()[j],
                                    "token id " + tokens.ids()[j] + " is outside the vocabulary (size " + vocab + ")");
                        }
                    }
                    ids = tokens.ids();
                    echo = tokenizer.decode(ids);
                    loc = tokens.loc();
                    filter.checkPrompt(echo, loc);
                }
            }
            if (fim != null) ids = fillInTheMiddle(tokenizer, fim, ids, suffix, addSpecial);
            if (ids.length == 0) {
                // No prompt: generate as if from the beginning of a new document.
                ids = new int[] {tokenizer.bosId() >= 0 ? tokenizer.bosId() : tokenizer.eosId()};
            }
            out.add(new PromptInput(ids, echo, loc));
        }
        return out;
    }

    private static int[] fillInTheMiddle(Tokenizer tokenizer, FimTokens fim, int[] prefix, String suffix, boolean addBos) {
        int[] suffixIds = tokenizer.encode(suffix, false, false);
        boolean bos = addBos && tokenizer.bosId() >= 0;
        int[] ids = new int[(bos ? 1 : 0) + 3 + prefix.length + suffixIds.length];
        int k = 0;
        if (bos) ids[k++] = tokenizer.bosId();
        ids[k++] = fim.prefix();
        System.arraycopy(prefix, 0, ids, k, prefix.length);
        k += prefix.length;
        ids[k++] = fim.suffix();
        System.arraycopy(suffixIds, 0, ids, k, suffixIds.length);
        k += suffixIds.length;
        ids[k] = fim.middle();
        return ids;
    }

    /** Counts prompt tokens once per prompt and completion tokens of every sequence. */
    private static final class UsageCounter {
        private final Set<Integer> countedPrompts = new HashSet<>();
        private int promptTokens;
        private int completionTokens;
        private int cachedTokens;

        void add(int promptIndex, Generation.Result result) {
            if (countedPrompts.add(promptIndex)) {
                promptTokens += result.promptTokens;
                cachedTokens += result.cachedPromptTokens;
            }
            completionTokens += result.completionTokens;
        }

        Usage usage() {
            return Usage.of(promptTokens, completionTokens, cachedTokens);
        }
    }

    /** Builds the OpenAI shapes: response, chunks and logprobs. */
    private record Shape(String id, long created, String model, String fingerprint, Tokenizer tokenizer,
                         Integer logprobs, List<PromptInput> prompts) {

        CompletionResponse chunk(int index, String text, CompletionResponse.Logprobs lp, String finish, Object stopReason) {
            return new CompletionResponse(id, CompletionResponse.OBJECT, created, model, fingerprint,
                    List.of(new CompletionResponse.Choice(index, text, lp, finish, stopReason)), null);
        }

        CompletionResponse response(List<Generation.Result> results, CompletionRequest request, int n, int candidates) {
            List<CompletionResponse.Choice> choices = new ArrayList<>();
            UsageCounter usage = new UsageCounter();
            for (int i = 0; i < prompts.size(); i++) {
                int first = i * candidates;
                for (int s = first; s < first + candidates; s++) usage.add(i, results.get(s));
                List<Generation.Result> best = IntStream.range(first, first + candidates).mapToObj(results::get)
                        .sorted(candidates > n ? Comparator.comparingDouble(Generation.Result::meanLogprob).reversed()
                                : Comparator.comparingInt(r -> 0))
                        .limit(n).toList();
                for (int k = 0; k < best.size(); k++) {
                    Generation.Result r = best.get(k);
                    String echo = request.echo() ? prompts.get(i).echoText() : "";
                    CompletionResponse.Logprobs lp = null;
                    if (logprobs != null) {
                        lp = request.echo() ? promptLogprobs(prompts.get(i).ids(), r.promptLogprobs, echo.length()) : emptyLogprobs();
                        appendLogprobs(lp, r.tokens, echo.length());
                    }
                    choices.add(new CompletionResponse.Choice(i * n + k, echo + r.text, lp, r.finishReason, r.stopReason));
                }
            }
            return new CompletionResponse(id, CompletionResponse.OBJECT, created, model, fingerprint, choices, usage.usage());
        }

        CompletionResponse.Logprobs emptyLogprobs() {
            return new CompletionResponse.Logprobs(new ArrayList<>(), new ArrayList<>(), new ArrayList<>(), new ArrayList<>());
        }

        /**
         * Logprobs of the prompt tokens (echo). The engine reports null for the first token (nothing precedes it), so
         * token ids come from the prompt itself. Offsets never pass the end of the echoed text (a tokenizer may
         * give the first word a leading space the text does not have).
         */
        CompletionResponse.Logprobs promptLogprobs(int[] prompt, List<GeneratedToken> scored, int echoLength) {
            CompletionResponse.Logprobs lp = emptyLogprobs();
            if (scored == null) return lp;
            int offset = 0;
            for (int k = 0; k < prompt.length; k++) {
                GeneratedToken t = k < scored.size() ? scored.get(k) : null;
                lp.tokens().add(TokenText.display(tokenizer, prompt[k]));
                lp.tokenLogprobs().add(t == null ? null : TokenText.finite(t.logprob()));
                lp.topLogprobs().add(t == null ? null : alternatives(t));
                lp.textOffset().add(Math.min(offset, echoLength));
                if (!tokenizer.isSpecial(prompt[k])) {
                    offset += t == null ? tokenizer.decode(new int[] {prompt[k]}).length() : t.text().length();
                }
            }
            return lp;
        }

        void appendLogprobs(CompletionResponse.Logprobs lp, List<SequenceOutput.Emitted> tokens, int base) {
            for (SequenceOutput.Emitted e : tokens) {
                lp.tokens().add(TokenText.display(tokenizer, e.token().id()));
                lp.tokenLogprobs().add(TokenText.finite(e.token().logprob()));
                lp.topLogprobs().add(alternatives(e.token()));
                lp.textOffset().add(base + e.start());
            }
        }

        /** The requested alternatives plus the chosen token (so up to logprobs+1 entries, as OpenAI documents). */
        Map<String, Float> alternatives(GeneratedToken t) {
            Map<String, Float> top = new LinkedHashMap<>();
            for (TokenLogprob alt : t.topLogprobs()) top.putIfAbsent(TokenText.display(tokenizer, alt.id()), TokenText.finite(alt.logprob()));
            top.putIfAbsent(TokenText.display(tokenizer, t.id()), TokenText.finite(t.logprob()));
            return top;
        }
    }

    /** Streams each piece as a chunk; best_of equals n here, so sequence s is choice s. */
    private static final class StreamObserver implements Generation.Observer {
        private final Shape shape;
        private final SseStream sse;
        private final CompletionRequest request;
        /** The prompt of each sequence. */
        private final int[] promptOf;
        private final GenerationOptions options;
        private final UsageCounter usage = new UsageCounter();
        private final int[] echoLength;
        private int finished;

        StreamObserver(Shape shape, SseStream sse, CompletionRequest request, int[] promptOf, GenerationOptions options) {
            this.shape = shape;
            this.sse = sse;
            this.request = request;
            this.promptOf = promptOf;
            this.options = options;
            this.echoLength = new int[promptOf.length];
            if (request.echo()) {
                for (int s = 0; s < promptOf.length; s++) echoLength[s] = shape.prompts().get(promptOf[s]).echoText().length();
            }
        }

        @Override
        public void promptLogprobs(int seq, List<GeneratedToken> tokens) {
            if (!request.echo()) return;
            String echo = shape.prompts().get(promptOf[seq]).echoText();
            int[] prompt = shape.prompts().get(promptOf[seq]).ids();
            sse.send(shape.chunk(seq, echo, shape.promptLogprobs(prompt, tokens, echo.length()), null, null));
        }

        @Override
        public void piece(int seq, SequenceOutput.Piece piece, Generation.Result result) {
            CompletionResponse.Logprobs lp = null;
            if (shape.logprobs() != null) {
                lp = shape.emptyLogprobs();
                // The piece's tokens are the last ones appended to the result, with offsets into the whole text.
                shape.appendLogprobs(lp, result.tokens.subList(result.tokens.size() - piece.tokens().size(), result.tokens.size()),
                        echoLength[seq]);
            }
            // A piece of tokens without text (those that completed a stop string) is news only for their logprobs.
            if (lp == null && piece.text().isEmpty()) return;
            sse.send(shape.chunk(seq, piece.text(), lp, null, null));
        }

        @Override
        public void finished(int seq, Generation.Result result) {
            usage.add(promptOf[seq], result);
            finished++;
            CompletionResponse chunk = shape.chunk(seq, "", null, result.finishReason, result.stopReason);
            if (finished == promptOf.length && options.extensions().usageInLastChunk()) {
                chunk = new CompletionResponse(chunk.id(), chunk.object(), chunk.created(), chunk.model(),
                        chunk.systemFingerprint(), chunk.choices(), usage.usage());
            }
            sse.send(chunk);
        }
    }
}
