package dev.quill.engine.model;

/**
 * One sequence's share of a forward pass: {@code tokens} sit at positions {@code startPos .. startPos+len-1}.
 * KV entries for positions before {@code startPos} are already in the cache; this pass writes the new ones.
 *
 * @param blockTable physical KV block ids of this sequence in logical order; must cover every position up to
 *                   {@code startPos + tokens.length - 1} (block i holds positions {@code i*blockSize ..}).
 * @param allLogits  return logits for every token of the chunk (prompt logprobs) instead of only the last one
 */
public record SequenceChunk(int[] tokens, int startPos, int[] blockTable, boolean allLogits) {

    public int logitRows() {
        return allLogits ? tokens.length : 1;
    }
}
