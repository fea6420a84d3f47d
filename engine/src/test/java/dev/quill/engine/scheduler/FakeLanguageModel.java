package dev.quill.engine.scheduler;

import dev.quill.engine.model.KvCache;
import dev.quill.engine.model.LanguageModel;
import dev.quill.engine.model.SequenceChunk;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * A stand-in model whose "KV cache" stores the token at every position and whose logits for a position are a
 * deterministic function of the tokens read back through the block table. Any paging mistake (a wrong block, a
 * missing copy, a skipped prefill, a block reused while still needed) changes what is read and therefore the logits,
 * so comparing output against {@link #logits(int[], int)} on the true token sequence exposes it.
 */
class FakeLanguageModel implements LanguageModel {

    /** Stores one token id per (block, offset); -1 where nothing was ever written. */
    static final class FakeKvCache implements KvCache {
        final int[][] slots;
        /** Which forward call and chunk last wrote each slot: {@code call << 20 | chunk}. */
        final long[][] writers;
        final int blockSize;
        final List<int[]> copies = new ArrayList<>();

        FakeKvCache(int numBlocks, int blockSize) {
            this.blockSize = blockSize;
            this.slots = new int[numBlocks][blockSize];
            this.writers = new long[numBlocks][blockSize];
            for (int[] s : slots) Arrays.fill(s, -1);
        }

        @Override
        public int numBlocks() {
            return slots.length;
        }

        @Override
        public int blockSize() {
            return blockSize;
        }

        @Override
        public void copyBlock(int src, int dst) {
            copies.add(new int[] {src, dst});
            slots[dst] = slots[src].clone();
            writers[dst] = writers[src].clone();
        }
    }

    final int vocabSize;
    final int contextLength;
    /** When >= 0: this token gets a dominant logit once a sequence holds {@code eosAfter} tokens. */
    int eosToken = -1;
    int eosAfter = Integer.MAX_VALUE;
    /**
     * When > 0: most positions (7 in 8, chosen by the hash) strongly favour repeating the token this many places back,
     * so the output falls into a pattern with occasional breaks (what speculative decoding guesses at).
     */
    int repeatPeriod;

    int forwardCalls;
    long tokensProcessed;
    int largestBatch;
    /** Token counts of each chunk of the latest forward call, in order. */
    List<Integer> lastChunkSizes = List.of();
    final List<List<SequenceChunk>> history = new ArrayList<>();
    boolean recordHistory;
    boolean closed;
    FakeKvCache lastCache;

    FakeLanguageModel(int vocabSize, int contextLength) {
        this.vocabSize = vocabSize;
        this.contextLength = contextLength;
    }

    @Override
    public int vocabSize() {
        return vocabSize;
    }

    @Override
    public int contextLength() {
        return contextLength;
    }

    @Override
    public long kvBytesPerToken(boolean f16) {
        return f16 ? 64 : 128;
    }

    @Override
    public KvCache createKvCache(int numBlocks, int blockSize, boolean f16) {
        lastCache = new FakeKvCache(numBlocks, blockSize);
        return lastCache;
    }

    @Override
    public float[] forward(List<SequenceChunk> chunks, KvCache kvCache) {
        FakeKvCache cache = (FakeKvCache) kvCache;
        int bs = cache.blockSize;
        int rows = 0;
        int batch = 0;
        for (SequenceChunk c : chunks) {
            rows += c.logitRows();
            batch += c.tokens().length;
        }
        forwardCalls++;
        tokensProcessed += batch;
        largestBatch = Math.max(largestBatch, batch);
        lastChunkSizes = chunks.stream().map(c -> c.tokens().length).toList();
        if (recordHistory) history.add(List.copyOf(chunks));
        // Write every chunk's keys first, then attend, refusing reads of another chunk's writes of this very pass.
        for (int ci = 0; ci < chunks.size(); ci++) {
            SequenceChunk c = chunks.get(ci);
            int end = c.startPos() + c.tokens().length;
            if (c.blockTable().length * bs < end) {
                throw new AssertionError("block table " + Arrays.toString(c.blockTable()) + " does not cover position " + (end - 1));
            }
            if (end > contextLength) throw new AssertionError("position " + (end - 1) + " beyond context " + contextLength);
            for (int i = 0; i < c.tokens().length; i++) {
                int p = c.startPos() + i;
                cache.slots[c.blockTable()[p / bs]][p % bs] = c.tokens()[i];
                cache.writers[c.blockTable()[p / bs]][p % bs] = (long) forwardCalls << 20 | ci;
            }
        }
        float[] out = new float[rows * vocabSize];
        int row = 0;
        for (int ci = 0; ci < chunks.size(); ci++) {
            SequenceChunk c = chunks.get(ci);
            int first = c.allLogits() ? c.startPos() : c.startPos() + c.tokens().length - 1;
            for (int p = first; p < c.startPos() + c.tokens().length; p++) {
                int[] seen = new int[p + 1];
                for (int q = 0; q <= p; q++) {
                    int t = cache.slots[c.blockTable()[q / bs]][q % bs];
                    long writer = cache.writers[c.blockTable()[q / bs]][q % bs];
                    if (t < 0) throw new AssertionError("position " + q + " read before it was written");
                    if (writer >>> 20 == forwardCalls && (writer & 0xFFFFF) != ci) {
                        throw new AssertionError("position " + q + " read in the pass another chunk wrote it");
                    }
                    seen[q] = t;
                }
                System.arraycopy(logits(seen, seen.length), 0, out, row++ * vocabSize, vocabSize);
            }
        }
        return out;
    }

    /** The logits after {@code tokens[0 .. length)}: what a correct cache must reproduce. */
    float[] logits(int[] tokens, int length) {
        long h = BlockManager.chain(17, tokens, 0, length);
        float[] l = new float[vocabSize];
        for (int v = 0; v < vocabSize; v++) {
            long z = BlockManager.chain(h, new int[] {v}, 0, 1);
            l[v] = (float) ((z >>> 11) * 0x1.0p-53 * 8 - 4);
        }
        if (repeatPeriod > 0 && length > repeatPeriod && (h & 7) != 0) l[tokens[length - repeatPeriod]] += 10;
        if (eosToken >= 0 && length >= eosAfter) l[eosToken] = 100;
        return l;
    }

    @Override
    public void close() {
        closed = true;
    }
}
