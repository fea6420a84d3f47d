package dev.quill.engine.scheduler;

import dev.quill.engine.tokenizer.Tokenizer;
import java.nio.charset.StandardCharsets;
import java.util.Set;

/** Token {@code i} reads "&lt;i&gt;"; enough for the engine loop, which only streams pieces and checks EOG ids. */
final class FakeTokenizer implements Tokenizer {
    private final int vocab;
    private final Set<Integer> endOfGeneration;

    FakeTokenizer(int vocab, Set<Integer> endOfGeneration) {
        this.vocab = vocab;
        this.endOfGeneration = endOfGeneration;
    }

    @Override
    public int[] encode(String text, boolean addSpecial, boolean parseSpecial) {
        throw new UnsupportedOperationException("the engine loop never encodes");
    }

    @Override
    public String decode(int[] ids) {
        StringBuilder sb = new StringBuilder();
        for (int id : ids) sb.append(tokenPiece(id));
        return sb.toString();
    }

    @Override
    public byte[] tokenBytes(int id) {
        return tokenPiece(id).getBytes(StandardCharsets.UTF_8);
    }

    @Override
    public String tokenPiece(int id) {
        return "<" + id + ">";
    }

    @Override
    public int tokenId(String piece) {
        return -1;
    }

    @Override
    public int vocabSize() {
        return vocab;
    }

    @Override
    public int bosId() {
        return 1;
    }

    @Override
    public int eosId() {
        return 2;
    }

    @Override
    public Set<Integer> endOfGenerationIds() {
        return endOfGeneration;
    }

    @Override
    public boolean isSpecial(int id) {
        return endOfGeneration.contains(id);
    }

    @Override
    public StreamingDecoder newStreamingDecoder() {
        return new StreamingDecoder() {
            @Override
            public String next(int id) {
                return tokenPiece(id);
            }

            @Override
            public String finish() {
                return "";
            }
        };
    }
}
