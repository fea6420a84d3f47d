package dev.quill.engine.tokenizer;

import java.nio.charset.StandardCharsets;
import java.util.PriorityQueue;

/**
 * SentencePiece-style BPE ({@code tokenizer.ggml.model = "llama"}): spaces are spelled '▁' (U+2581), the text
 * starts as single characters, and the adjacent pair whose concatenation is the highest-scoring vocabulary piece is
 * merged until no pair forms a piece (ties go to the leftmost pair). Characters left without a piece fall back to
 * their UTF-8 bytes as {@code <0xNN>} tokens, or to the unknown token when the vocabulary has no byte tokens.
 */
final class SentencePieceTokenizer extends BaseTokenizer {
    static final char SPACE_MARK = '\u2581';

    private final boolean addSpacePrefix;

    /**
     * @param addSpacePrefix prepend a space to text at the start and after every special token (SentencePiece's
     *                       "dummy prefix", so that a first word is spelled like any other word)
     */
    SentencePieceTokenizer(Vocabulary vocab, boolean addSpacePrefix) {
        super(vocab, piece -> piece.replace(SPACE_MARK, ' ').getBytes(StandardCharsets.UTF_8), addSpacePrefix);
        this.addSpacePrefix = addSpacePrefix;
    }

    /** A candidate merge of the symbols at {@code left} and {@code right} into a piece of {@code length} chars. */
    private record Bigram(float score, int left, int right, int length) {}

    @Override
    void encodeText(String text, boolean atStartOrAfterSpecial, IntList out) {
        String s = (addSpacePrefix && atStartOrAfterSpecial ? " " + text : text).replace(' ', SPACE_MARK);

        // One symbol per code point: symbol i covers s[start[i], start[i] + length[i]); merged symbols get length 0.
        int n = s.codePointCount(0, s.length());
        int[] start = new int[n];
        int[] length = new int[n];
        int[] prev = new int[n];
        int[] next = new int[n];
        for (int i = 0, offset = 0; i < n; i++) {
            start[i] = offset;
            length[i] = Character.charCount(s.codePointAt(offset));
            offset += length[i];
            prev[i] = i - 1;
            next[i] = i + 1 < n ? i + 1 : -1;
        }

        PriorityQueue<Bigram> queue = new PriorityQueue<>(Math.max(1, n), (a, b) -> a.score != b.score
                ? Float.compare(b.score, a.score) : Integer.compare(a.left, b.left));
        for (int i = 1; i < n; i++) offer(queue, s, start, length, i - 1, i);
        while (!queue.isEmpty()) {
            Bigram bigram = queue.poll();
            int left = bigram.left, right = bigram.right;
            // Skip pairs that went stale: a side was merged away, or grew since the pair was queued.
            if (length[left] == 0 || length[right] == 0 || length[left] + length[right] != bigram.length) continue;
            length[left] += length[right];
            length[right] = 0;
            next[left] = next[right];
            if (next[right] >= 0) prev[next[right]] = left;
            offer(queue, s, start, length, prev[left], left);
            offer(queue, s, start, length, left, next[left]);
        }

        for (int i = n > 0 ? 0 : -1; i >= 0; i = next[i]) {
            int id = vocab.id(s, start[i], start[i] + length[i]);
            if (id >= 0 && vocab.isTextToken(id)) {
                out.add(id);
            } else { // only single characters can lack a piece: merges always form one
                appendBytes(s.substring(start[i], start[i] + length[i]), out);
            }
        }
    }

    private void offer(PriorityQueue<Bigram> queue, String s, int[] start, int[] length, int left, int right) {
        if (left < 0 || right < 0) return;
        int merged = length[left] + length[right];
        int id = vocab.id(s, start[left], start[left] + merged);
        if (id < 0 || !vocab.isTextToken(id)) return;
        queue.add(new Bigram(vocab.score(id), left, right, merged));
    }

    /** A character without a piece: its UTF-8 bytes as byte tokens, or the unknown token if some are missing. */
    private void appendBytes(String character, IntList out) {
        byte[] bytes = character.getBytes(StandardCharsets.UTF_8);
        int[] ids = new int[bytes.length];
        for (int i = 0; i < bytes.length; i++) {
            ids[i] = vocab.byteToken(bytes[i]);
            if (ids[i] < 0) {
                if (vocab.unk >= 0) out.add(vocab.unk);
                return;
            }
        }
        out.addAll(ids);
    }
}
