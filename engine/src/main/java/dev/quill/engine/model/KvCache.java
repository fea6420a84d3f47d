package dev.quill.engine.model;

/**
 * Paged key/value storage shared by all sequences: {@code numBlocks} blocks of {@code blockSize} token positions,
 * each holding keys and values of every layer. Which sequence owns which block is the scheduler's business; the
 * model only reads and writes through a sequence's block table.
 */
public interface KvCache {
    int numBlocks();

    int blockSize();

    /** Copies a block's contents (copy-on-write when sequences that shared a prefix diverge). */
    void copyBlock(int src, int dst);
}
