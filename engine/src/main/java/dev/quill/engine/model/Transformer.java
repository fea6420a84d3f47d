package dev.quill.engine.model;

import dev.quill.engine.gguf.GgufFile;
import dev.quill.engine.tensor.Matmul;
import dev.quill.engine.tensor.ThreadPool;
import dev.quill.engine.tensor.VectorOps;
import dev.quill.engine.tensor.WeightMatrix;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The decoder-only transformer shared by Llama, Qwen2 and Qwen3 (pre-norm blocks of RMSNorm, rope attention with
 * grouped-query heads, SwiGLU feed-forward), run batched over a paged KV cache.
 *
 * <p>A forward pass stacks every token of every chunk into {@code [tokens × dim]} activations, so each weight matmul
 * is one {@link Matmul#run} over all tokens: the weights are read once per pass whatever the batch. Only attention
 * is per sequence: each token attends, through its sequence's block table, to the cached keys and values of its own
 * positions up to and including itself; every chunk's new keys and values are stored before any token attends.
 *
 * <p>Batch invariance: matmuls, norms, rope and attention compute each token's values with a fixed sequence of
 * operations that does not depend on the other tokens or on thread scheduling, so a token's logits are
 * bit-identical alone or in any batch.
 */
public final class Transformer implements LanguageModel {

    /**
     * Most tokens that run through the layers together; larger batches run as several passes, with identical
     * results. Bounds the scratch activations (about 60 MB for a 1B model).
     */
    static final int DEFAULT_MAX_PASS_TOKENS = 512;

    private final int maxPassTokens;
    private final ModelConfig config;
    private final ModelWeights weights;
    private final ThreadPool pool;
    /** Closed with the model when the model opened it. */
    private final GgufFile ownedFile;
    /** Rope inverse frequencies of each rotated pair (already divided by the Llama 3 factors). */
    private final double[] ropeInvFreq;
    private final float attentionScale;
    /** Per layer, the matrices that read the same normed input, each group run as one parallel loop. */
    private final WeightMatrix[][] qkvWeights, gateUpWeights;
    private final ThreadLocal<float[]> scoreScratch = ThreadLocal.withInitial(() -> new float[0]);
    private Activations act = new Activations(0);

    Transformer(ModelConfig config, ModelWeights weights, ThreadPool pool, GgufFile ownedFile, int maxPassTokens) {
        this.maxPassTokens = maxPassTokens;
        this.config = config;
        this.weights = weights;
        this.pool = pool;
        this.ownedFile = ownedFile;
        int pairs = config.ropeDims() / 2;
        this.ropeInvFreq = new double[pairs];
        for (int i = 0; i < pairs; i++) {
            double f = Math.pow(config.ropeTheta(), -2.0 * i / config.ropeDims());
            ropeInvFreq[i] = weights.ropeFreqFactors() == null ? f : f / weights.ropeFreqFactors()[i];
        }
        this.attentionScale = (float) (1 / Math.sqrt(config.headDim()));
        ModelWeights.Layer[] layers = weights.layers();
        this.qkvWeights = new WeightMatrix[layers.length][];
        this.gateUpWeights = new WeightMatrix[layers.length][];
        for (int l = 0; l < layers.length; l++) {
            qkvWeights[l] = new WeightMatrix[]{layers[l].wq(), layers[l].wk(), layers[l].wv()};
            gateUpWeights[l] = new WeightMatrix[]{layers[l].gate(), layers[l].up()};
        }
    }

    public ModelConfig config() {
        return config;
    }

    @Override
    public int vocabSize() {
        return config.vocabSize();
    }

    @Override
    public int contextLength() {
        return config.contextLength();
    }

    @Override
    public long kvBytesPerToken(boolean f16) {
        return PagedKvCache.bytesPerToken(config, f16);
    }

    @Override
    public PagedKvCache createKvCache(int numBlocks, int blockSize, boolean f16) {
        return new PagedKvCache(config, numBlocks, blockSize, f16);
    }

    /** Scratch activations for up to {@code capacity} tokens, kept between passes and grown when needed. */
    private static final class Activations {
        final int capacity;
        int[] pos;
        int[][] blockTable;
        /** Attention work groups of the pass: see {@link Transformer#queryGroups}. */
        int[] groupStart;
        boolean[] wantsLogits;
        float[] x, xb, q, k, v, att, out, gate, up, ropeCos, ropeSin;
        /** Outputs of the matmuls that share an input: {q, k, v} and {gate, up}. */
        float[][] qkvOut, gateUpOut;

        Activations(int capacity) {
            this.capacity = capacity;
        }

        Activations allocate(ModelConfig c) {
            int n = capacity;
            pos = new int[n];
            blockTable = new int[n][];
            groupStart = new int[n + 1];
            wantsLogits = new boolean[n];
            x = new float[n * c.dim()];
            xb = new float[n * c.dim()];
            q = new float[n * c.queryDim()];
            k = new float[n * c.kvDim()];
            v = new float[n * c.valueRowDim()];
            att = new float[n * c.attentionOutDim()];
            out = new float[n * c.dim()];
            gate = new float[n * c.ffnDim()];
            up = new float[n * c.ffnDim()];
            ropeCos = new float[n * c.ropeDims() / 2];
            ropeSin = new float[n * c.ropeDims() / 2];
            qkvOut = new float[][]{q, k, v};
            gateUpOut = new float[][]{gate, up};
            return this;
        }
    }

    @Override
    public synchronized float[] forward(List<SequenceChunk> chunks, KvCache kvCache) {
        PagedKvCache cache = checkCache(kvCache);
        int n = 0;
        int logitRows = 0;
        for (SequenceChunk chunk : chunks) {
            checkChunk(chunk, cache);
            n += chunk.tokens().length;
            logitRows += chunk.logitRows();
        }
        if (n == 0) return new float[0];
        int capacity = Math.min(n, maxPassTokens);
        if (act.capacity < capacity) act = new Activations(Math.max(capacity, Math.min(maxPassTokens, act.capacity * 2))).allocate(config);
        Activations a = act;

        // Tokens are gathered in order into passes of at most maxPassTokens; a chunk may straddle two passes,
        // which is exactly chunked prefill: the later part reads the earlier part's keys and values from the cache.
        float[] logits = new float[logitRows * config.vocabSize()];
        int pass = 0;
        int rowsDone = 0;
        for (SequenceChunk chunk : chunks) {
            int[] tokens = chunk.tokens();
            for (int i = 0; i < tokens.length; i++) {
                a.pos[pass] = chunk.startPos() + i;
                a.blockTable[pass] = chunk.blockTable();
                a.wantsLogits[pass] = chunk.allLogits() || i == tokens.length - 1;
                weights.tokenEmbedding().dequantizeRow(tokens[i], a.x, pass * config.dim());
                if (++pass == maxPassTokens) {
                    rowsDone = runPass(pass, cache, logits, rowsDone);
                    pass = 0;
                }
            }
        }
        if (pass > 0) runPass(pass, cache, logits, rowsDone);
        Arrays.fill(a.blockTable, null);
        return logits;
    }

    /** Runs the n gathered tokens through every layer and appends their logit rows; returns the rows written so far. */
    private int runPass(int n, PagedKvCache cache, float[] logits, int rowsDone) {
        pool.parallelFor(n, this::computeRope);
        for (int l = 0; l < config.layers(); l++) {
            layer(l, weights.layers()[l], n, cache);
        }
        return appendLogits(n, logits, rowsDone);
    }

    private void layer(int l, ModelWeights.Layer w, int n, PagedKvCache cache) {
        Activations a = act;
        int dim = config.dim();
        pool.parallelFor(n, t -> VectorOps.rmsnorm(a.xb, t * dim, a.x, t * dim, w.attnNorm(), 0, dim, config.rmsEps()));
        Matmul.run(pool, qkvWeights[l], a.xb, n, a.qkvOut);
        pool.parallelFor(n, t -> prepareQkv(l, w, t, cache));
        attention(l, n, cache);
        Matmul.run(pool, w.wo(), a.att, n, a.out);
        pool.parallelFor(n, t -> {
            addResidual(a.x, a.out, t * dim, dim);
            VectorOps.rmsnorm(a.xb, t * dim, a.x, t * dim, w.ffnNorm(), 0, dim, config.rmsEps());
        });
        Matmul.run(pool, gateUpWeights[l], a.xb, n, a.gateUpOut);
        int ffn = config.ffnDim();
        pool.parallelFor(n, t -> VectorOps.siluMul(a.gate, t * ffn, a.up, t * ffn, ffn));
        Matmul.run(pool, w.down(), a.gate, n, a.out);
        pool.parallelFor(n, t -> addResidual(a.x, a.out, t * dim, dim));
    }

    /**
     * Cosine and sine of every rotated pair's angle at token t's position, with StrictMath so that the result never
     * depends on whether the code runs interpreted or compiled.
     */
    private void computeRope(int t) {
        Activations a = act;
        int pairs = ropeInvFreq.length;
        double position = (double) a.pos[t] * config.ropeFreqScale();
        for (int i = 0; i < pairs; i++) {
            double angle = position * ropeInvFreq[i];
            a.ropeCos[t * pairs + i] = (float) StrictMath.cos(angle);
            a.ropeSin[t * pairs + i] = (float) StrictMath.sin(angle);
        }
    }

    /** Biases, per-head Q/K norms and rope for token t, then its keys and values go into the cache. */
    private void prepareQkv(int l, ModelWeights.Layer w, int t, PagedKvCache cache) {
        Activations a = act;
        int qOff = t * config.queryDim();
        int kOff = t * config.kvDim();
        int vOff = t * config.valueRowDim();
        if (w.qBias() != null) {
            addBias(a.q, qOff, w.qBias(), config.queryDim());
            addBias(a.k, kOff, w.kBias(), config.kvDim());
            addBias(a.v, vOff, w.vBias(), config.valueRowDim());
        }
        int hd = config.headDim();
        for (int h = 0; h < config.heads(); h++) {
            if (w.qNorm() != null) VectorOps.rmsnorm(a.q, qOff + h * hd, a.q, qOff + h * hd, w.qNorm(), 0, hd, config.rmsEps());
            rope(a.q, qOff + h * hd, t);
        }
        for (int h = 0; h < config.kvHeads(); h++) {
            if (w.kNorm() != null) VectorOps.rmsnorm(a.k, kOff + h * hd, a.k, kOff + h * hd, w.kNorm(), 0, hd, config.rmsEps());
            rope(a.k, kOff + h * hd, t);
        }
        int p = a.pos[t];
        int bs = cache.blockSize();
        cache.store(l, a.blockTable[t][p / bs], p % bs, a.k, kOff, a.v, vOff);
    }

    /** Rotates the first ropeDims elements of the head at {@code x[off ..]}: adjacent pairs, or halves for NeoX. */
    private void rope(float[] x, int off, int t) {
        Activations a = act;
        int pairs = ropeInvFreq.length;
        int stride = config.architecture().neoxRope ? 1 : 2;
        int partner = config.architecture().neoxRope ? pairs : 1;
        for (int i = 0; i < pairs; i++) {
            float cos = a.ropeCos[t * pairs + i];
            float sin = a.ropeSin[t * pairs + i];
            int j = off + i * stride;
            float x0 = x[j];
            float x1 = x[j + partner];
            x[j] = x0 * cos - x1 * sin;
            x[j + partner] = x0 * sin + x1 * cos;
        }
    }

    /**
     * Causal attention for every token and key/value head, block by block through the token's block table. Work items
     * (group of tokens, KV head) are claimed dynamically, since later tokens attend to more positions; each is computed
     * the same way whichever thread runs it, and a token's result does not depend on whether it was attended to in a
     * group of four or alone.
     */
    private void attention(int l, int n, PagedKvCache cache) {
        Activations a = act;
        int kvHeads = config.kvHeads();
        int groups = queryGroups(n, cache.hasQueryTile());
        int items = groups * kvHeads;
        AtomicInteger next = new AtomicInteger();
        pool.parallelFor(pool.threads(), worker -> {
            for (int item; (item = next.getAndIncrement()) < items; ) {
                int first = a.groupStart[item / kvHeads];
                boolean four = a.groupStart[item / kvHeads + 1] - first == PagedKvCache.QUERY_TILE;
                attend(l, first, four, item % kvHeads, cache);
            }
        });
    }

    /**
     * Splits the pass's tokens into attention work groups, written to {@code groupStart} (group i is tokens
     * {@code [groupStart[i], groupStart[i + 1])}), and returns how many. With {@code tile}, four consecutive tokens of
     * one sequence (a prompt's) form one group, attended to together; every other token is a group of its own.
     */
    private int queryGroups(int n, boolean tile) {
        Activations a = act;
        int groups = 0;
        for (int t = 0; t < n; ) {
            a.groupStart[groups++] = t;
            int end = t + PagedKvCache.QUERY_TILE;
            boolean four = tile && end <= n;
            for (int u = t + 1; four && u < end; u++) {
                four = a.blockTable[u] == a.blockTable[t] && a.pos[u] == a.pos[t] + (u - t);
            }
            t = four ? end : t + 1;
        }
        a.groupStart[groups] = n;
        return groups;
    }

    /**
     * Token t's attention for the query heads of KV head g, into {@code att}; with {@code fourTokens}, that of tokens
     * t .. t+3 of one sequence, each key and value vector read and widened once for the four (see
     * {@link PagedKvCache#keyScores4}). The results are bit-identical either way.
     */
    private void attend(int l, int t, boolean fourTokens, int g, PagedKvCache cache) {
        Activations a = act;
        int group = config.groupSize();
        int hd = config.headDim();
        int vd = config.valueDim();
        int bs = cache.blockSize();
        int len = a.pos[t] + 1;
        int[] table = a.blockTable[t];
        int qDim = config.queryDim();
        int outDim = config.attentionOutDim();
        if (fourTokens) {
            int stride = (len + PagedKvCache.QUERY_TILE - 1 + bs - 1) / bs * bs;
            float[] scores = scores(PagedKvCache.QUERY_TILE * stride);
            for (int j = 0; j < group; j++) {
                int head = g * group + j;
                attendFourQueries(l, table, g, len, 1, t * qDim + head * hd, qDim, t * outDim + head * vd, outDim,
                        scores, stride, cache);
            }
            return;
        }
        int stride = (len + bs - 1) / bs * bs;
        int four = cache.hasQueryTile() ? group / PagedKvCache.QUERY_TILE * PagedKvCache.QUERY_TILE : 0;
        float[] scores = scores(four > 0 ? PagedKvCache.QUERY_TILE * stride : stride);
        // Query heads that share this KV head (grouped-query attention) four at a time, reading the keys and values once.
        for (int j = 0; j < four; j += PagedKvCache.QUERY_TILE) {
            int head = g * group + j;
            attendFourQueries(l, table, g, len, 0, t * qDim + head * hd, hd, t * outDim + head * vd, vd, scores, stride,
                    cache);
        }
        for (int j = four; j < group; j++) {
            int head = g * group + j;
            int qOff = t * qDim + head * hd;
            cache.keyScores(l, table, g, len, a.q, qOff, attentionScale, scores);
            VectorOps.softmax(scores, 0, len);
            int outOff = t * outDim + head * vd;
            Arrays.fill(a.att, outOff, outOff + vd, 0f);
            cache.accumulateValues(l, table, g, len, scores, a.att, outOff);
        }
    }

    /**
     * Four queries against KV head g at once: query i at {@code q[q0 + i · qStep]} attends to positions
     * {@code [0, len + i · step)} and writes its output to {@code att[o0 + i · oStep]}; {@code scores} holds four
     * rows {@code stride} apart.
     */
    private void attendFourQueries(int l, int[] table, int g, int len, int step, int q0, int qStep, int o0, int oStep,
                                   float[] scores, int stride, PagedKvCache cache) {
        Activations a = act;
        int vd = config.valueDim();
        cache.keyScores4(l, table, g, len, step, a.q, q0, q0 + qStep, q0 + 2 * qStep, q0 + 3 * qStep, attentionScale,
                scores, stride);
        for (int i = 0; i < PagedKvCache.QUERY_TILE; i++) {
            VectorOps.softmax(scores, i * stride, len + i * step);
            Arrays.fill(a.att, o0 + i * oStep, o0 + i * oStep + vd, 0f);
        }
        cache.accumulateValues4(l, table, g, len, step, scores, stride, a.att, o0, o0 + oStep, o0 + 2 * oStep,
                o0 + 3 * oStep);
    }

    private float[] scores(int size) {
        float[] s = scoreScratch.get();
        if (s.length < size) {
            s = new float[Math.max(size, s.length * 2)];
            scoreScratch.set(s);
        }
        return s;
    }

    /** Final norm and output projection of the tokens that want logits, appended to {@code logits}. */
    private int appendLogits(int n, float[] logits, int rowsDone) {
        Activations a = act;
        int dim = config.dim();
        int rows = 0;
        // Gathered into xb, free at this point.
        for (int t = 0; t < n; t++) {
            if (a.wantsLogits[t]) System.arraycopy(a.x, t * dim, a.xb, rows++ * dim, dim);
        }
        int gathered = rows;
        pool.parallelFor(gathered, i -> VectorOps.rmsnorm(a.xb, i * dim, a.xb, i * dim, weights.outputNorm(), 0, dim, config.rmsEps()));
        int vocab = config.vocabSize();
        if (rowsDone == 0 && gathered * vocab == logits.length) {
            Matmul.run(pool, weights.output(), a.xb, gathered, logits);
        } else {
            float[] part = new float[gathered * vocab];
            Matmul.run(pool, weights.output(), a.xb, gathered, part);
            System.arraycopy(part, 0, logits, rowsDone * vocab, part.length);
        }
        return rowsDone + gathered;
    }

    /** Residual connection: {@code x[off ..] += y[off ..]}. */
    private static void addResidual(float[] x, float[] y, int off, int len) {
        VectorOps.axpy(1f, y, off, x, off, len);
    }

    /** {@code x[off ..] += bias[0 ..]}. */
    private static void addBias(float[] x, int off, float[] bias, int len) {
        VectorOps.axpy(1f, bias, 0, x, off, len);
    }

    private PagedKvCache checkCache(KvCache kvCache) {
        Objects.requireNonNull(kvCache, "cache");
        if (!(kvCache instanceof PagedKvCache cache) || !cache.fits(config)) {
            throw new IllegalArgumentException("the KV cache was not created by this model's createKvCache");
        }
        return cache;
    }

    private void checkChunk(SequenceChunk chunk, PagedKvCache cache) {
        int[] tokens = chunk.tokens();
        if (tokens.length == 0) throw new IllegalArgumentException("a sequence chunk has no tokens");
        if (chunk.startPos() < 0) throw new IllegalArgumentException("a sequence chunk starts at position " + chunk.startPos());
        for (int token : tokens) {
            if (token < 0 || token >= config.vocabSize()) {
                throw new IllegalArgumentException("token id " + token + " is outside the vocabulary [0, " + config.vocabSize() + ")");
            }
        }
        long end = (long) chunk.startPos() + tokens.length;
        int[] table = chunk.blockTable();
        if ((long) table.length * cache.blockSize() < end) {
            throw new IllegalArgumentException("block table of " + table.length + " blocks × " + cache.blockSize()
                    + " positions does not cover position " + (end - 1));
        }
        for (int i = 0; i < (end + cache.blockSize() - 1) / cache.blockSize(); i++) {
            if (table[i] < 0 || table[i] >= cache.numBlocks()) {
                throw new IllegalArgumentException("block table entry " + i + " = " + table[i]
                        + " is not a block of this cache [0, " + cache.numBlocks() + ")");
            }
        }
    }

    @Override
    public void close() {
        if (ownedFile != null) ownedFile.close();
    }
}
