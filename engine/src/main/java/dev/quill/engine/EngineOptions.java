package dev.quill.engine;

import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * How an {@link Engine} runs a model. Start from {@link #defaults()} and change what you need with the
 * {@code with...} methods.
 *
 * @param threads        worker threads of the forward pass (default: all cores)
 * @param contextLength  tokens of context per sequence; 0 means the model's own. Lowered to what the KV cache budget
 *                       can hold, so that one sequence always fits.
 * @param kvCacheBytes   memory for the KV cache of all sequences together (default 512 MiB); less is allocated when
 *                       {@code maxSequences} sequences at full context need less
 * @param blockSize      token positions per KV cache block (default 16)
 * @param kvF16          store keys and values as F16 (default) rather than F32
 * @param maxBatchTokens tokens one forward pass may process: every running sequence's next token plus chunks of
 *                       prompts (default 512)
 * @param maxSequences   sequences computed at once (default 64)
 * @param maxQueue       requests waiting to start before {@link QueueFullException} (default 256)
 * @param prefixCaching  keep computed prompt blocks and reuse them for later prompts with the same start (default on)
 * @param warmup         at load, run a miniature of the model until the JIT has compiled the kernels, so that the
 *                       first requests do not run uncompiled code (default on; a few seconds, see {@link Warmup})
 * @param speculativeTokens draft tokens at most per step of a sequence decoding alone (one each when two decode
 *                       together; default 3; 0 turns speculative
 *                       decoding off). Drafts come from the sequence's own earlier tokens and are verified in the same
 *                       pass, so the output is exactly what decoding one token at a time gives; see
 *                       {@code dev.quill.engine.scheduler.Speculation}
 */
public record EngineOptions(
        int threads,
        int contextLength,
        long kvCacheBytes,
        int blockSize,
        boolean kvF16,
        int maxBatchTokens,
        int maxSequences,
        int maxQueue,
        boolean prefixCaching,
        boolean warmup,
        int speculativeTokens) {

    public static final long DEFAULT_KV_CACHE_BYTES = 512L << 20;
    public static final int DEFAULT_SPECULATIVE_TOKENS = 3;
    /** More draft tokens than this cost more to verify than they can save on a CPU. */
    public static final int MAX_SPECULATIVE_TOKENS = 8;

    public EngineOptions {
        check(threads >= 1, "threads must be at least 1, got " + threads);
        check(contextLength >= 0, "context length must be 0 (the model's) or positive, got " + contextLength);
        check(kvCacheBytes > 0, "KV cache size must be positive, got " + kvCacheBytes + " bytes");
        check(blockSize >= 1 && blockSize <= 1024, "block size must be between 1 and 1024 tokens, got " + blockSize);
        check(maxBatchTokens >= 1, "max batch tokens must be at least 1, got " + maxBatchTokens);
        check(maxSequences >= 1, "max sequences must be at least 1, got " + maxSequences);
        check(maxQueue >= 1, "max queue must be at least 1 (every request waits there until its first step), got " + maxQueue);
        check(speculativeTokens >= 0 && speculativeTokens <= MAX_SPECULATIVE_TOKENS,
                "speculative tokens must be between 0 (off) and " + MAX_SPECULATIVE_TOKENS + ", got " + speculativeTokens);
    }

    public static EngineOptions defaults() {
        return new EngineOptions(Runtime.getRuntime().availableProcessors(), 0, DEFAULT_KV_CACHE_BYTES, 16, true,
                512, 64, 256, true, true, DEFAULT_SPECULATIVE_TOKENS);
    }

    public EngineOptions withThreads(int threads) {
        return new EngineOptions(threads, contextLength, kvCacheBytes, blockSize, kvF16, maxBatchTokens, maxSequences, maxQueue, prefixCaching, warmup, speculativeTokens);
    }

    public EngineOptions withContextLength(int contextLength) {
        return new EngineOptions(threads, contextLength, kvCacheBytes, blockSize, kvF16, maxBatchTokens, maxSequences, maxQueue, prefixCaching, warmup, speculativeTokens);
    }

    public EngineOptions withKvCacheBytes(long kvCacheBytes) {
        return new EngineOptions(threads, contextLength, kvCacheBytes, blockSize, kvF16, maxBatchTokens, maxSequences, maxQueue, prefixCaching, warmup, speculativeTokens);
    }

    public EngineOptions withBlockSize(int blockSize) {
        return new EngineOptions(threads, contextLength, kvCacheBytes, blockSize, kvF16, maxBatchTokens, maxSequences, maxQueue, prefixCaching, warmup, speculativeTokens);
    }

    public EngineOptions withKvF16(boolean kvF16) {
        return new EngineOptions(threads, contextLength, kvCacheBytes, blockSize, kvF16, maxBatchTokens, maxSequences, maxQueue, prefixCaching, warmup, speculativeTokens);
    }

    public EngineOptions withMaxBatchTokens(int maxBatchTokens) {
        return new EngineOptions(threads, contextLength, kvCacheBytes, blockSize, kvF16, maxBatchTokens, maxSequences, maxQueue, prefixCaching, warmup, speculativeTokens);
    }

    public EngineOptions withMaxSequences(int maxSequences) {
        return new EngineOptions(threads, contextLength, kvCacheBytes, blockSize, kvF16, maxBatchTokens, maxSequences, maxQueue, prefixCaching, warmup, speculativeTokens);
    }

    public EngineOptions withMaxQueue(int maxQueue) {
        return new EngineOptions(threads, contextLength, kvCacheBytes, blockSize, kvF16, maxBatchTokens, maxSequences, maxQueue, prefixCaching, warmup, speculativeTokens);
    }

    public EngineOptions withPrefixCaching(boolean prefixCaching) {
        return new EngineOptions(threads, contextLength, kvCacheBytes, blockSize, kvF16, maxBatchTokens, maxSequences, maxQueue, prefixCaching, warmup, speculativeTokens);
    }

    public EngineOptions withSpeculativeTokens(int speculativeTokens) {
        return new EngineOptions(threads, contextLength, kvCacheBytes, blockSize, kvF16, maxBatchTokens, maxSequences, maxQueue, prefixCaching, warmup, speculativeTokens);
    }

    public EngineOptions withWarmup(boolean warmup) {
        return new EngineOptions(threads, contextLength, kvCacheBytes, blockSize, kvF16, maxBatchTokens, maxSequences, maxQueue, prefixCaching, warmup, speculativeTokens);
    }

    private static final Pattern SIZE = Pattern.compile("(\\d+(?:\\.\\d+)?)\\s*(?:([KMGT])I?)?B?", Pattern.CASE_INSENSITIVE);

    /**
     * Parses a memory size such as {@code 512MB}, {@code 2G}, {@code 1.5GiB} or {@code 1048576} (bytes). K, M, G
     * and T are binary (1024-based) units, as memory sizes usually are.
     *
     * @throws IllegalArgumentException naming the text when it is not a size
     */
    public static long parseBytes(String text) {
        Matcher m = SIZE.matcher(text == null ? "" : text.strip());
        if (!m.matches()) {
            throw new IllegalArgumentException("not a memory size: '" + text + "' (expected e.g. 512MB, 2GB or 1.5GiB)");
        }
        String unit = m.group(2) == null ? "" : m.group(2).toUpperCase(Locale.ROOT);
        int shift = switch (unit) {
            case "K" -> 10;
            case "M" -> 20;
            case "G" -> 30;
            case "T" -> 40;
            default -> 0;
        };
        double bytes = Double.parseDouble(m.group(1)) * (1L << shift);
        if (bytes < 1 || bytes > Long.MAX_VALUE / 2) throw new IllegalArgumentException("memory size out of range: '" + text + "'");
        return (long) bytes;
    }

    private static void check(boolean ok, String message) {
        if (!ok) throw new IllegalArgumentException(message);
    }
}
