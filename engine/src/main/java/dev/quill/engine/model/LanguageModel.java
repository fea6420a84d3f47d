package dev.quill.engine.model;

import java.util.List;

/**
 * A loaded model that runs batched forward passes. One call advances several sequences at once: each weight is read
 * once per pass for all tokens of all chunks (matrix–matrix work), and each token's result is the same whatever
 * else is in the batch.
 */
public interface LanguageModel extends AutoCloseable {

    int vocabSize();

    /** Context length from the model's metadata. */
    int contextLength();

    /** Bytes of KV cache one token position takes (all layers, keys and values) with the given element size. */
    long kvBytesPerToken(boolean f16);

    KvCache createKvCache(int numBlocks, int blockSize, boolean f16);

    /**
     * Runs one forward pass and returns the logits: for each chunk in order, {@link SequenceChunk#logitRows()} rows
     * of {@link #vocabSize()} floats (the last token's row, or one per token when allLogits).
     */
    float[] forward(List<SequenceChunk> chunks, KvCache cache);

    @Override
    void close();
}
