package dev.quill.engine.tokenizer;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Byte-level BPE ({@code tokenizer.ggml.model = "gpt2"}): the pre-tokenizer splits text into words, each word's
 * UTF-8 bytes start as one single-byte token each (GPT-2's byte alphabet), and the adjacent pair with the
 * lowest-ranked merge rule is merged until no rule applies (ties go to the leftmost pair).
 */
final class BytePairTokenizer extends BaseTokenizer {
    /** Words repeat a lot in text, so their ids are cached; the cache is dropped whole when it gets this big. */
    private static final int WORD_CACHE_LIMIT = 1 << 16;
    /** Longer words (whitespace runs, long numbers in some models) are rare enough not to be worth keeping. */
    private static final int CACHED_WORD_MAX_LENGTH = 64;

    private final PreTokenizer preTokenizer;
    private final MergeTable merges;
    private final int[] byteIds = new int[256];
    private final ConcurrentHashMap<String, int[]> wordCache = new ConcurrentHashMap<>();

    BytePairTokenizer(Vocabulary vocab, String[] merges, PreTokenizer preTokenizer) {
        super(vocab, ByteLevel::decode, false);
        this.preTokenizer = preTokenizer;
        this.merges = new MergeTable(merges, vocab);
        for (int b = 0; b < 256; b++) byteIds[b] = vocab.id(String.valueOf(ByteLevel.charOf(b)));
    }

    @Override
    void encodeText(String text, boolean atStartOrAfterSpecial, IntList out) {
        for (String word : preTokenizer.split(text)) {
            int[] ids = wordCache.get(word);
            if (ids == null) {
                ids = encodeWord(word);
                if (word.length() <= CACHED_WORD_MAX_LENGTH) {
                    if (wordCache.size() >= WORD_CACHE_LIMIT) wordCache.clear();
                    wordCache.put(word, ids);
                }
            }
            out.addAll(ids);
        }
    }

    private int[] encodeWord(String word) {
        byte[] bytes = word.getBytes(StandardCharsets.UTF_8);
        if (preTokenizer.ignoreMerges()) {
            int whole = vocab.id(ByteLevel.encode(bytes));
            if (whole >= 0 && vocab.isTextToken(whole)) return new int[] {whole};
        }
        int n = bytes.length;
        int[] ids = new int[n];
        int[] prev = new int[n];
        int[] next = new int[n];
        for (int i = 0; i < n; i++) {
            ids[i] = byteIds[bytes[i] & 0xFF];
            prev[i] = i - 1;
            next[i] = i + 1 < n ? i + 1 : -1;
        }

        // Candidates are (rank, left position) packed in a long, so the heap orders by rank, then position.
        LongHeap queue = new LongHeap(n);
        for (int i = 0; i + 1 < n; i++) offer(queue, ids, i, i + 1);
        while (!queue.isEmpty()) {
            long top = queue.poll();
            int rank = (int) (top >>> 32);
            int left = (int) top;
            int right = ids[left] < 0 ? -1 : next[left];
            // Skip candidates that went stale: the pair at this position is no longer the one that was queued.
            if (right < 0 || ids[right] < 0 || merges.rank(ids[left], ids[right]) != rank) continue;
            ids[left] = merges.mergedId(rank);
            ids[right] = -2; // merged away
            next[left] = next[right];
            if (next[right] >= 0) prev[next[right]] = left;
            if (prev[left] >= 0) offer(queue, ids, prev[left], left);
            if (next[left] >= 0) offer(queue, ids, left, next[left]);
        }

        IntList out = new IntList(n);
        for (int i = 0; i >= 0 && i < n; i = next[i]) {
            if (ids[i] >= 0) out.add(ids[i]); // -1: a byte the vocabulary cannot spell is dropped, as in llama.cpp
        }
        return out.toArray();
    }

    private void offer(LongHeap queue, int[] ids, int left, int right) {
        if (ids[left] < 0 || ids[right] < 0) return;
        int rank = merges.rank(ids[left], ids[right]);
        if (rank >= 0) queue.add(((long) rank << 32) | left);
    }

    /** A binary min-heap of longs. */
    private static final class LongHeap {
        private long[] heap;
        private int size;

        LongHeap(int capacity) {
            heap = new long[Math.max(4, capacity)];
        }

        boolean isEmpty() {
            return size == 0;
        }

        void add(long value) {
            if (size == heap.length) heap = Arrays.copyOf(heap, size * 2);
            int i = size++;
            while (i > 0) {
                int parent = (i - 1) >>> 1;
                if (heap[parent] <= value) break;
                heap[i] = heap[parent];
                i = parent;
            }
            heap[i] = value;
        }

        long poll() {
            long top = heap[0];
            long last = heap[--size];
            int i = 0;
            while (true) {
                int child = 2 * i + 1;
                if (child >= size) break;
                if (child + 1 < size && heap[child + 1] < heap[child]) child++;
                if (last <= heap[child]) break;
                heap[i] = heap[child];
                i = child;
            }
            heap[i] = last;
            return top;
        }
    }
}
