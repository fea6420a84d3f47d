package dev.quill.engine.tensor;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Objects;

/**
 * The computation shared by every weight type. Each output is defined by one <em>canonical</em> sequence of
 * operations, which every code path below reproduces exactly, so results are batch invariant:
 * <pre>
 *   acc = 0 (L acc);  for c = 0, L, 2L, … &lt; cols − cols % L:  acc = fma(w[r][c..c+L), x[t][c..c+L), acc)
 *   s = foldHalves(acc);  for the remaining columns c:  s = fma(w[r][c], x[t][c], s)
 * </pre>
 * where {@code w} is the exact dequantized weight (bit-identical to {@link Quantization#dequantize}) and
 * {@code foldHalves} adds lane i + L/2^k into lane i for k = 1, 2, … (a fixed order; never {@code reduceLanes}, whose
 * order may differ between the interpreter and compiled code).
 *
 * <p>Three paths implement it. One decode token of a type with a fused kernel ({@link #dotRows}: Q8_0, Q4_0, Q4_K,
 * F16, BF16) is dequantized in registers straight into the FMAs; all but Q4_K read the mapped weights directly, Q4_K
 * a per-thread copy of a group of rows; two tokens share each dequantized weight where the type has a pair kernel
 * ({@link #dotRowsPair}: Q8_0, Q4_0). Small decode batches (4 to {@link #TILE_MAX_TOKENS} tokens) of a type with a
 * token-tile kernel ({@link #dotRowsTile}: Q8_0 with 4 rows, or 2 with 8-lane vectors; Q4_0 with 2, 16 lanes only)
 * dequantize each weight once in registers for 4 tokens at a time, and the 1–3 tokens left over run the one- and
 * two-token kernels.
 * Everything else dequantizes {@link #ROW_TILE} rows into a per-thread f32 panel once and runs a register-tiled
 * {@code ROW_TILE × PANEL_TOKENS} f32 kernel over it (4 × 4 with 16 lanes, 4 × 2 with 8: see {@link #PANEL_TOKENS}),
 * reusing each dequantized weight for every token of the chunk. The weights are never copied to the heap as a whole
 * (see {@link #copyRows}).
 *
 * <p><b>8-lane machines (AVX2).</b> They have 16 vector registers, not 32, so their tiles are smaller, and a Q8_0
 * block is four 8-lane steps: loops over a block's steps take two per iteration, since C2's per-iteration bookkeeping
 * cost more than the arithmetic. The launcher lowers C2's loop-unrolling limit on these machines, so that the kernel
 * loops are not unrolled (unrolled, their hoisted loads spilled). Measurements: docs/performance.md, "8-lane
 * machines".
 *
 * <p><b>Spaced rows.</b> A fused decode kernel reads several rows at once (independent FMA chains). Within a thread's
 * chunk of R rows it takes rows r, r + R/k, r + 2R/k … rather than k adjacent rows, so each of its rows continues
 * where the previous call's left off: the core reads k long sequential streams, which the hardware prefetcher
 * follows, instead of k new short ones per call, which it did not (Q8_0, 2,048 columns, one thread, from DRAM:
 * 8.3 → 16.0 G weights/s). Results do not change: every row is still its own canonical chain.
 *
 * <p>Kernel size is bounded by C2: a method whose inlined Vector API calls exceed its node budget
 * (NodeCountInliningCutoff) leaves calls out of line, boxes vectors and runs 10–50× slower. That is why the fused
 * kernels take 2 or 4 rows and not more (a 4-row Q4_0 kernel and 8-row Q8_0/F16 kernels crossed the line); check any new kernel with
 * {@code MatmulBenchmark}.
 */
abstract class TiledMatrix implements WeightMatrix {

    static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    /** Float lanes per vector: the accumulation width of the canonical order. */
    static final int L = F.length();
    /** Byte species with as many lanes as {@link #F}, for widening quantized bytes to floats. */
    static final VectorSpecies<Byte> B = VectorSpecies.of(byte.class, VectorShape.forBitSize(L * Byte.SIZE));
    /** Short species with as many lanes as {@link #F}, for widening f16/bf16 to floats. */
    static final VectorSpecies<Short> S = VectorSpecies.of(short.class, VectorShape.forBitSize(L * Short.SIZE));

    static final int ROW_TILE = 4;
    /** Tokens of the fused token tile ({@link #dotRowsTile}). */
    static final int TOKEN_TILE = 4;
    /**
     * Tokens of the f32 panel kernel: 4 where vectors have 16 lanes (AVX-512 has 32 vector registers: 16 accumulators,
     * 4 activations and a weight fit), 2 with 8 lanes (AVX2 has 16 registers; a 4 × 4 tile spilled accumulators to
     * the stack on every FMA, and 4 × 3 and 6 × 2 tiles measured slower than 4 × 2).
     */
    static final int PANEL_TOKENS = L >= 16 ? 4 : 2;
    /** Batches up to this size use the fused decode kernels; larger ones dequantize panels. */
    static final int FUSED_MAX_TOKENS = 3;
    /**
     * Batches up to this size use the token-tile fused kernel of types that have one ({@link #hasTokenTile}):
     * dequantizing in registers beats writing a panel until about 8–12 tokens share each dequantized weight.
     */
    static final int TILE_MAX_TOKENS = 8;
    /** Raw bytes copied at once by the fused path: about half of L1. */
    static final int GROUP_BYTES = 16 * 1024;
    /** Tokens processed per pass over a row panel, so their activations stay in cache. */
    static final int TOKEN_CHUNK = 64;
    /**
     * Tokens per pass for matrices of at most {@link #NARROW_COLS} columns: their activations still fit in L2 (112 ×
     * 1,024 floats = 448 KB of a 1 MB L2), and a ~100-token prompt then takes one pass over the weights instead of
     * two (pp102 on the 110m model: 776, 776, 791 against 658, 671, 765 tokens/s with 64). Wider matrices (a 1B
     * model's 2,048 and 5,632 columns) measured slower with 112 and keep {@link #TOKEN_CHUNK}.
     */
    static final int NARROW_CHUNK = 112;
    static final int NARROW_COLS = 1024;

    final GgmlType type;
    final MemorySegment data;
    final int rows;
    final int cols;
    /** Bytes per row (ggml rows are whole blocks). */
    final int rowBytes;
    /** Columns covered by whole vectors; the rest (only for element types) is the scalar tail. */
    final int colsV;
    /**
     * Tokens per panel pass ({@link #NARROW_CHUNK} or {@link #TOKEN_CHUNK}), chosen here rather than in
     * {@link #matmul}: a branch there that the warm-up's narrow miniature never took was compiled as an uncommon trap,
     * and the real model's first wide matrix deoptimized {@code matmul} during the first request.
     */
    private final int tokenChunk;

    TiledMatrix(GgmlType type, MemorySegment data, int rows, int cols) {
        this.type = type;
        this.data = data;
        this.rows = rows;
        this.cols = cols;
        this.rowBytes = Math.toIntExact(type.bytesFor(cols));
        this.colsV = cols - cols % L;
        this.tokenChunk = cols <= NARROW_COLS ? NARROW_CHUNK : TOKEN_CHUNK;
    }

    /** Writes rows {@code [r, r + count)}, dequantized exactly, to {@code dst[off + i * cols ..]}. */
    abstract void dequantizeRows(int r, int count, float[] dst, int off, Scratch s);

    /**
     * Canonical dot products of {@link #fusedRows()} consecutive rows, whose raw bytes start at {@code raw[ro]}, with
     * one token {@code x[xo .. xo + cols)}, written to {@code out[oo ..]}: dequantization fused into the FMA loop.
     */
    void dotRows(byte[] raw, int ro, float[] x, int xo, float[] out, int oo, Scratch s) {
        throw new UnsupportedOperationException(type + " has no fused kernel");
    }

    /**
     * As {@link #dotRows(byte[], int, float[], int, float[], int, Scratch)} but reading the rows straight from
     * {@link #data}, for types whose {@link #fusedReadsSegment()} is true: the {@link #fusedRows()} rows are
     * {@code apart} rows apart, the first at byte {@code offset}, and row i's result goes to {@code out[oo + i · apart]}.
     */
    void dotRows(long offset, int apart, float[] x, int xo, float[] out, int oo, float[] acc) {
        throw new UnsupportedOperationException(type + " has no segment-reading fused kernel");
    }

    /**
     * Canonical dot products of {@link #tileRows()} rows {@code apart} rows apart, the first at {@link #data} byte
     * {@code offset}, with 4 tokens whose activations start at {@code x[x0]}, {@code x[x1]}, {@code x[x2]},
     * {@code x[x3]}; token j's result for row i goes to {@code out[oj + i · apart]}. Only for types whose
     * {@link #hasTokenTile()} is true.
     */
    void dotRowsTile(long offset, int apart, float[] x, int x0, int x1, int x2, int x3, float[] out, int o0, int o1,
                     int o2, int o3, float[] acc) {
        throw new UnsupportedOperationException(type + " has no token-tile kernel");
    }

    /**
     * {@link #dotRows(long, int, float[], int, float[], int, float[])} for two tokens at once (activations at
     * {@code x[x0]} and {@code x[x1]}, results from {@code out[o0]} and {@code out[o1]}). Types with a kernel that
     * dequantizes each weight once for both override this; by default each token is a separate call, the second
     * reading the rows from L1.
     */
    void dotRowsPair(long offset, int apart, float[] x, int x0, int x1, float[] out, int o0, int o1, float[] acc) {
        dotRows(offset, apart, x, x0, out, o0, acc);
        dotRows(offset, apart, x, x1, out, o1, acc);
    }

    /** Rows per {@link #dotRowsTile} call: 2, or 4 where the kernel stays within C2's node budget (Q8_0). */
    int tileRows() {
        return 2;
    }

    /** Whether the type has the {@link #tileRows()} × 4-token fused kernel {@link #dotRowsTile}. */
    boolean hasTokenTile() {
        return false;
    }

    /**
     * Whether the fused kernel reads {@link #data} itself rather than a {@link #copyRows} copy. Small kernels can (the
     * segment accesses then fit C2's inlining budget) and skip moving every weight byte twice.
     */
    boolean fusedReadsSegment() {
        return false;
    }

    /**
     * Rows per {@link #dotRows} call, or 0 if the type has no fused kernel (small batches then use the panels too).
     * Each row is an independent FMA chain and its own stream of weights: 4 rows keep more memory reads in flight than 2
     * (Q8_0 and F16 decode measured faster), and more can make the method too big
     * for C2 to inline the Vector API calls (NodeCountInliningCutoff), which is catastrophic.
     */
    int fusedRows() {
        return 0;
    }

    /**
     * Copies the raw bytes of rows {@code [r, r + count)} to the thread's scratch array: kernels read arrays, whose
     * accesses compile to far fewer C2 nodes than segment accesses (segment-based kernels exceeded C2's inlining node
     * budget and ran 10–50× slower).
     */
    final byte[] copyRows(int r, int count, Scratch s) {
        byte[] q = s.bytes(count * rowBytes);
        MemorySegment.copy(data, ValueLayout.JAVA_BYTE, (long) r * rowBytes, q, 0, count * rowBytes);
        return q;
    }

    /** 6-bit scale of sub-block {@code j} (0..7) from the 12 packed K-quant scale bytes at {@code q[p]}. */
    static int kScale(byte[] q, int p, int j) {
        return j < 4 ? q[p + j] & 63 : (q[p + j + 4] & 0xF) | (q[p + j - 4] & 0xC0) >> 2;
    }

    /** 6-bit min of sub-block {@code j} (0..7) from the 12 packed K-quant scale bytes at {@code q[p]}. */
    static int kMin(byte[] q, int p, int j) {
        return j < 4 ? q[p + j + 4] & 63 : (q[p + j + 4] & 0xF0) >> 4 | (q[p + j] & 0xC0) >> 2;
    }


    /**
     * Every byte of {@code v} shifted right logically by {@code bits}. x86 has no byte shift (a byte-lane shift
     * compiles to widen, shift, narrow), so this shifts 16-bit lanes and masks off the bits that came in from the
     * neighbouring byte: about 1.35× faster Q4_0 decode.
     */
    static ByteVector shiftRight(ByteVector v, int bits) {
        return v.reinterpretAsShorts().lanewise(VectorOperators.LSHR, bits).reinterpretAsBytes().and((byte) (0xFF >>> bits));
    }

    /**
     * Every byte of {@code v} shifted left by {@code bits}, for bytes already small enough that none overflows (so no
     * bit crosses into the next byte when 16-bit lanes are shifted instead; see {@link #shiftRight}).
     */
    static ByteVector shiftLeftSmall(ByteVector v, int bits) {
        return v.reinterpretAsShorts().lanewise(VectorOperators.LSHL, bits).reinterpretAsBytes();
    }

    /** The f16 value stored little-endian at {@code q[i]}. */
    static float f16(byte[] q, int i) {
        // Assembled by hand: a byte-array VarHandle here was not inlined in the fused decode kernels (one call per block).
        return Float.float16ToFloat((short) ((q[i] & 0xFF) | (q[i + 1] << 8)));
    }

    @Override
    public GgmlType type() {
        return type;
    }

    @Override
    public int rows() {
        return rows;
    }

    @Override
    public int cols() {
        return cols;
    }

    @Override
    public void dequantizeRow(int r, float[] dst, int offset) {
        Objects.checkIndex(r, rows);
        Objects.requireNonNull(dst, "dst");
        if (offset < 0 || offset > dst.length - cols) {
            throw new IllegalArgumentException("dequantizeRow: [" + offset + ", " + ((long) offset + cols)
                    + ") is outside an array of length " + dst.length);
        }
        dequantizeRows(r, 1, dst, offset, Scratch.get());
    }

    @Override
    public final void matmul(float[] x, int n, float[] out, int outStride, int r0, int r1) {
        checkMatmul(x, n, out, outStride, r0, r1);
        Scratch s = Scratch.get();
        int step = fusedRows();
        if (n >= TOKEN_TILE && n <= TILE_MAX_TOKENS && hasTokenTile()) {
            // Whole groups of 4 tokens run the token tile over rows r, r + apart … (see "Spaced rows" in the class
            // comment), the rows staying in L1 while every group runs over them; the 1–3 tokens left over then run the
            // one-token and two-token kernels over the same rows, which the tile has just brought into L2.
            int full = n / TOKEN_TILE * TOKEN_TILE;
            int tr = tileRows();
            int apart = (r1 - r0) / tr;
            for (int r = r0; r < r0 + apart; r++) {
                long offset = (long) r * rowBytes;
                for (int t = 0; t < full; t += TOKEN_TILE) {
                    dotRowsTile(offset, apart, x, t * cols, (t + 1) * cols, (t + 2) * cols, (t + 3) * cols,
                            out, t * outStride + r, (t + 1) * outStride + r, (t + 2) * outStride + r,
                            (t + 3) * outStride + r, s.acc);
                }
            }
            int r = r0 + tr * apart;
            if (r < r1) panels(x, 0, full, out, outStride, r, r1, s);
            if (full < n) fusedTokens(x, full, n, out, outStride, r0, r1, s);
        } else if (step > 0 && n <= FUSED_MAX_TOKENS && fusedReadsSegment()) {
            fusedTokens(x, 0, n, out, outStride, r0, r1, s);
        } else if (step > 0 && n <= FUSED_MAX_TOKENS) {
            // Copy groups of rows (one bulk copy has a fixed cost) and run every token over each group while it is
            // in L1.
            int group = Math.max(1, GROUP_BYTES / (step * rowBytes)) * step;
            int r = r0;
            while (r + step <= r1) {
                int count = Math.min(group, (r1 - r) / step * step);
                byte[] raw = copyRows(r, count, s);
                for (int t = 0; t < n; t++) {
                    for (int i = 0; i < count; i += step) {
                        dotRows(raw, i * rowBytes, x, t * cols, out, t * outStride + r + i, s);
                    }
                }
                r += count;
            }
            if (r < r1) panels(x, 0, n, out, outStride, r, r1, s);
        } else {
            for (int t0 = 0; t0 < n; t0 += tokenChunk) {
                panels(x, t0, Math.min(n, t0 + tokenChunk), out, outStride, r0, r1, s);
            }
        }
    }

    /**
     * Tokens {@code [t0, t1)} through the segment-reading fused kernels: rows r, r + apart, r + 2·apart … together (see
     * "Spaced rows" in the class comment), two tokens at a time through {@link #dotRowsPair}, a last odd one through
     * {@link #dotRows}; rows left over after the groups go to the panels.
     */
    private void fusedTokens(float[] x, int t0, int t1, float[] out, int outStride, int r0, int r1, Scratch s) {
        int step = fusedRows();
        int apart = (r1 - r0) / step;
        for (int r = r0; r < r0 + apart; r++) {
            long offset = (long) r * rowBytes;
            int t = t0;
            for (; t + 2 <= t1; t += 2) {
                dotRowsPair(offset, apart, x, t * cols, (t + 1) * cols, out, t * outStride + r, (t + 1) * outStride + r,
                        s.acc);
            }
            if (t < t1) dotRows(offset, apart, x, t * cols, out, t * outStride + r, s.acc);
        }
        int r = r0 + step * apart;
        if (r < r1) panels(x, t0, t1, out, outStride, r, r1, s);
    }

    /** Panel path for tokens {@code [t0, t1)} and rows {@code [r0, r1)}. */
    private void panels(float[] x, int t0, int t1, float[] out, int outStride, int r0, int r1, Scratch s) {
        float[] panel = s.panel(ROW_TILE * cols);
        for (int r = r0; r < r1; r += ROW_TILE) {
            int count = Math.min(ROW_TILE, r1 - r);
            dequantizeRows(r, count, panel, 0, s);
            if (count == ROW_TILE) {
                int t = t0;
                if (PANEL_TOKENS == 4) {
                    for (; t + 4 <= t1; t += 4) kernel4x4(panel, x, t * cols, out, t * outStride + r, outStride, s.acc);
                } else {
                    for (; t + 2 <= t1; t += 2) kernel4x2(panel, x, t * cols, out, t * outStride + r, outStride, s.acc);
                }
                for (; t < t1; t++) {
                    kernel4x1(panel, x, t * cols, out, t * outStride + r, s.acc);
                }
            } else {
                for (int i = 0; i < count; i++) {
                    int t = t0;
                    for (; t + TOKEN_TILE <= t1; t += TOKEN_TILE) {
                        kernel1x4(panel, i * cols, x, t * cols, out, t * outStride + r + i, outStride, s.acc);
                    }
                    for (; t < t1; t++) {
                        kernel1x1(panel, i * cols, x, t * cols, out, t * outStride + r + i, s.acc);
                    }
                }
            }
        }
    }

    /** 4 panel rows × 4 tokens (token j at {@code xo + j·cols}); out(i, j) at {@code oo + i + j·outStride}. */
    private void kernel4x4(float[] w, float[] x, int xo, float[] out, int oo, int outStride, float[] acc) {
        int c1 = cols, c2 = 2 * cols, c3 = 3 * cols;
        FloatVector a00 = FloatVector.zero(F), a01 = a00, a02 = a00, a03 = a00;
        FloatVector a10 = a00, a11 = a00, a12 = a00, a13 = a00;
        FloatVector a20 = a00, a21 = a00, a22 = a00, a23 = a00;
        FloatVector a30 = a00, a31 = a00, a32 = a00, a33 = a00;
        for (int c = 0; c < colsV; c += L) {
            FloatVector x0 = FloatVector.fromArray(F, x, xo + c);
            FloatVector x1 = FloatVector.fromArray(F, x, xo + c1 + c);
            FloatVector x2 = FloatVector.fromArray(F, x, xo + c2 + c);
            FloatVector x3 = FloatVector.fromArray(F, x, xo + c3 + c);
            FloatVector w0 = FloatVector.fromArray(F, w, c);
            a00 = w0.fma(x0, a00);
            a01 = w0.fma(x1, a01);
            a02 = w0.fma(x2, a02);
            a03 = w0.fma(x3, a03);
            FloatVector w1 = FloatVector.fromArray(F, w, c1 + c);
            a10 = w1.fma(x0, a10);
            a11 = w1.fma(x1, a11);
            a12 = w1.fma(x2, a12);
            a13 = w1.fma(x3, a13);
            FloatVector w2 = FloatVector.fromArray(F, w, c2 + c);
            a20 = w2.fma(x0, a20);
            a21 = w2.fma(x1, a21);
            a22 = w2.fma(x2, a22);
            a23 = w2.fma(x3, a23);
            FloatVector w3 = FloatVector.fromArray(F, w, c3 + c);
            a30 = w3.fma(x0, a30);
            a31 = w3.fma(x1, a31);
            a32 = w3.fma(x2, a32);
            a33 = w3.fma(x3, a33);
        }
        int s1 = outStride, s2 = 2 * outStride, s3 = 3 * outStride;
        if (colsV == cols) {
            a00.intoArray(acc, 0);
            a10.intoArray(acc, 16);
            a20.intoArray(acc, 32);
            a30.intoArray(acc, 48);
            a01.intoArray(acc, 64);
            a11.intoArray(acc, 80);
            a21.intoArray(acc, 96);
            a31.intoArray(acc, 112);
            a02.intoArray(acc, 128);
            a12.intoArray(acc, 144);
            a22.intoArray(acc, 160);
            a32.intoArray(acc, 176);
            a03.intoArray(acc, 192);
            a13.intoArray(acc, 208);
            a23.intoArray(acc, 224);
            a33.intoArray(acc, 240);
            for (int j = 0, o = oo; j < 4; j++, o += outStride) {
                fold4(acc, 64 * j);
                out[o] = acc[64 * j];
                out[o + 1] = acc[64 * j + 1];
                out[o + 2] = acc[64 * j + 2];
                out[o + 3] = acc[64 * j + 3];
            }
            return;
        }
        out[oo] = finish(a00, w, 0, x, xo, acc);
        out[oo + s1] = finish(a01, w, 0, x, xo + c1, acc);
        out[oo + s2] = finish(a02, w, 0, x, xo + c2, acc);
        out[oo + s3] = finish(a03, w, 0, x, xo + c3, acc);
        out[oo + 1] = finish(a10, w, c1, x, xo, acc);
        out[oo + 1 + s1] = finish(a11, w, c1, x, xo + c1, acc);
        out[oo + 1 + s2] = finish(a12, w, c1, x, xo + c2, acc);
        out[oo + 1 + s3] = finish(a13, w, c1, x, xo + c3, acc);
        out[oo + 2] = finish(a20, w, c2, x, xo, acc);
        out[oo + 2 + s1] = finish(a21, w, c2, x, xo + c1, acc);
        out[oo + 2 + s2] = finish(a22, w, c2, x, xo + c2, acc);
        out[oo + 2 + s3] = finish(a23, w, c2, x, xo + c3, acc);
        out[oo + 3] = finish(a30, w, c3, x, xo, acc);
        out[oo + 3 + s1] = finish(a31, w, c3, x, xo + c1, acc);
        out[oo + 3 + s2] = finish(a32, w, c3, x, xo + c2, acc);
        out[oo + 3 + s3] = finish(a33, w, c3, x, xo + c3, acc);
    }

    /** 4 panel rows × 2 tokens, the {@link #kernel4x4} of 16-register machines (see {@link #PANEL_TOKENS}). */
    private void kernel4x2(float[] w, float[] x, int xo, float[] out, int oo, int outStride, float[] acc) {
        int c1 = cols, c2 = 2 * cols, c3 = 3 * cols;
        FloatVector a00 = FloatVector.zero(F), a01 = a00;
        FloatVector a10 = a00, a11 = a00;
        FloatVector a20 = a00, a21 = a00;
        FloatVector a30 = a00, a31 = a00;
        for (int c = 0; c < colsV; c += L) {
            FloatVector x0 = FloatVector.fromArray(F, x, xo + c);
            FloatVector x1 = FloatVector.fromArray(F, x, xo + c1 + c);
            FloatVector w0 = FloatVector.fromArray(F, w, c);
            a00 = w0.fma(x0, a00);
            a01 = w0.fma(x1, a01);
            FloatVector w1 = FloatVector.fromArray(F, w, c1 + c);
            a10 = w1.fma(x0, a10);
            a11 = w1.fma(x1, a11);
            FloatVector w2 = FloatVector.fromArray(F, w, c2 + c);
            a20 = w2.fma(x0, a20);
            a21 = w2.fma(x1, a21);
            FloatVector w3 = FloatVector.fromArray(F, w, c3 + c);
            a30 = w3.fma(x0, a30);
            a31 = w3.fma(x1, a31);
        }
        if (colsV == cols) {
            a00.intoArray(acc, 0);
            a10.intoArray(acc, 16);
            a20.intoArray(acc, 32);
            a30.intoArray(acc, 48);
            a01.intoArray(acc, 64);
            a11.intoArray(acc, 80);
            a21.intoArray(acc, 96);
            a31.intoArray(acc, 112);
            for (int j = 0, o = oo; j < 2; j++, o += outStride) {
                fold4(acc, 64 * j);
                out[o] = acc[64 * j];
                out[o + 1] = acc[64 * j + 1];
                out[o + 2] = acc[64 * j + 2];
                out[o + 3] = acc[64 * j + 3];
            }
            return;
        }
        int s1 = outStride;
        out[oo] = finish(a00, w, 0, x, xo, acc);
        out[oo + s1] = finish(a01, w, 0, x, xo + c1, acc);
        out[oo + 1] = finish(a10, w, c1, x, xo, acc);
        out[oo + 1 + s1] = finish(a11, w, c1, x, xo + c1, acc);
        out[oo + 2] = finish(a20, w, c2, x, xo, acc);
        out[oo + 2 + s1] = finish(a21, w, c2, x, xo + c1, acc);
        out[oo + 3] = finish(a30, w, c3, x, xo, acc);
        out[oo + 3 + s1] = finish(a31, w, c3, x, xo + c1, acc);
    }

    // Permutations folding four 16-lane accumulators at once.
    private static final VectorShuffle<Float> EVEN_PAIRS = shuffle(0, 1, 4, 5, 8, 9, 12, 13, 0, 1, 4, 5, 8, 9, 12, 13);
    private static final VectorShuffle<Float> ODD_PAIRS = shuffle(2, 3, 6, 7, 10, 11, 14, 15, 2, 3, 6, 7, 10, 11, 14, 15);
    private static final VectorShuffle<Float> EVEN = shuffle(0, 2, 4, 6, 8, 10, 12, 14, 0, 2, 4, 6, 8, 10, 12, 14);
    private static final VectorShuffle<Float> ODD = shuffle(1, 3, 5, 7, 9, 11, 13, 15, 1, 3, 5, 7, 9, 11, 13, 15);

    // Two-vector permutations as index vectors for selectFrom (indices ≥ 16 select from the second vector).
    private static final FloatVector LOW_HALVES_AT = indexes(0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23);
    private static final FloatVector HIGH_HALVES_AT = indexes(8, 9, 10, 11, 12, 13, 14, 15, 24, 25, 26, 27, 28, 29, 30, 31);
    private static final FloatVector LOW_QUARTERS_AT = indexes(0, 1, 2, 3, 8, 9, 10, 11, 16, 17, 18, 19, 24, 25, 26, 27);
    private static final FloatVector HIGH_QUARTERS_AT = indexes(4, 5, 6, 7, 12, 13, 14, 15, 20, 21, 22, 23, 28, 29, 30, 31);

    private static FloatVector indexes(int... lanes) {
        float[] f = new float[L];
        for (int i = 0; i < L; i++) f[i] = L == 16 ? lanes[i] : i;
        return FloatVector.fromArray(F, f, 0);
    }

    private static VectorShuffle<Float> shuffle(int... indexes) {
        return L == 16 ? VectorShuffle.fromValues(F, indexes) : VectorShuffle.iota(F, 0, 1, true);
    }

    /**
     * Replaces the four accumulators stored 16 floats apart at {@code acc[i ..]} by their canonical sums in
     * {@code acc[i .. i + 4)}: exactly the additions of {@link #foldHalves} for each (lane j + lane j + L/2, then
     * + L/4, …, + 1), done four sums per vector add ({@link #fold4Of8} with 8 lanes). Accumulators go through an
     * array because vectors passed to a method C2 does not inline are boxed, and the kernels are too big for C2 to
     * inline this.
     */
    static void fold4(float[] acc, int i) {
        if (L == 8) { // the only other width WeightMatrices accepts
            fold4Of8(acc, i);
            return;
        }
        FloatVector a = FloatVector.fromArray(F, acc, i), b = FloatVector.fromArray(F, acc, i + 16);
        FloatVector c = FloatVector.fromArray(F, acc, i + 32), d = FloatVector.fromArray(F, acc, i + 48);
        // Two-vector selectFrom is a two-table permute; a two-vector rearrange is two permutes and a blend.
        FloatVector ab = LOW_HALVES_AT.selectFrom(a, b).add(HIGH_HALVES_AT.selectFrom(a, b)); // a: lanes 0-7, b: 8-15
        FloatVector cd = LOW_HALVES_AT.selectFrom(c, d).add(HIGH_HALVES_AT.selectFrom(c, d));
        FloatVector q = LOW_QUARTERS_AT.selectFrom(ab, cd).add(HIGH_QUARTERS_AT.selectFrom(ab, cd)); // 4 lanes each
        FloatVector p = q.rearrange(EVEN_PAIRS).add(q.rearrange(ODD_PAIRS)); // 2 lanes each
        p.rearrange(EVEN).add(p.rearrange(ODD)).intoArray(acc, i); // lanes 0-3: a, b, c, d
    }

    // Single-vector permutations and a blend mask folding four 8-lane accumulators (AVX2 has no two-table permute).
    private static final VectorShuffle<Float> SWAP_HALVES = shuffle8(4, 5, 6, 7, 0, 1, 2, 3);
    private static final VectorShuffle<Float> PAIRS_02 = shuffle8(0, 1, 4, 5, 0, 1, 4, 5);
    private static final VectorShuffle<Float> PAIRS_13 = shuffle8(2, 3, 6, 7, 2, 3, 6, 7);
    private static final VectorShuffle<Float> EVEN_8 = shuffle8(0, 2, 4, 6, 0, 2, 4, 6);
    private static final VectorShuffle<Float> ODD_8 = shuffle8(1, 3, 5, 7, 1, 3, 5, 7);
    private static final VectorMask<Float> UPPER_HALF =
            VectorMask.fromLong(F, L == 8 ? 0xF0L : 0L);

    private static VectorShuffle<Float> shuffle8(int... indexes) {
        return L == 8 ? VectorShuffle.fromValues(F, indexes) : VectorShuffle.iota(F, 0, 1, true);
    }

    /**
     * {@link #fold4} with 8 lanes: the same additions (lane j + lane j+4, then +2, then +1 for each accumulator),
     * two accumulators per vector add and then four.
     */
    private static void fold4Of8(float[] acc, int i) {
        FloatVector a = FloatVector.fromArray(F, acc, i), b = FloatVector.fromArray(F, acc, i + 16);
        FloatVector c = FloatVector.fromArray(F, acc, i + 32), d = FloatVector.fromArray(F, acc, i + 48);
        FloatVector ab = a.blend(b.rearrange(SWAP_HALVES), UPPER_HALF)
                .add(a.rearrange(SWAP_HALVES).blend(b, UPPER_HALF)); // a's 4 sums, then b's
        FloatVector cd = c.blend(d.rearrange(SWAP_HALVES), UPPER_HALF)
                .add(c.rearrange(SWAP_HALVES).blend(d, UPPER_HALF));
        FloatVector q = ab.rearrange(PAIRS_02).blend(cd.rearrange(PAIRS_02), UPPER_HALF)
                .add(ab.rearrange(PAIRS_13).blend(cd.rearrange(PAIRS_13), UPPER_HALF)); // 2 sums each of a, b, c, d
        q.rearrange(EVEN_8).add(q.rearrange(ODD_8)).intoArray(acc, i); // lanes 0-3: a, b, c, d
    }

    /**
     * Folds the 8 accumulators of a 2-row × 4-token tile, stored 16 floats apart in {@code acc} as (row 0, row 1) for
     * token 0, then token 1, 2, 3, and writes token j's two sums to {@code out[oj]}, {@code out[oj + apart]}.
     */
    static void storeTile(float[] acc, int apart, float[] out, int o0, int o1, int o2, int o3) {
        fold4(acc, 0);
        fold4(acc, 64);
        out[o0] = acc[0];
        out[o0 + apart] = acc[1];
        out[o1] = acc[2];
        out[o1 + apart] = acc[3];
        out[o2] = acc[64];
        out[o2 + apart] = acc[65];
        out[o3] = acc[66];
        out[o3 + apart] = acc[67];
    }

    /** 4 panel rows × 1 token; out(i) at {@code oo + i}. */
    final void kernel4x1(float[] w, float[] x, int xo, float[] out, int oo, float[] acc) {
        int c1 = cols, c2 = 2 * cols, c3 = 3 * cols;
        FloatVector a0 = FloatVector.zero(F), a1 = a0, a2 = a0, a3 = a0;
        for (int c = 0; c < colsV; c += L) {
            FloatVector xv = FloatVector.fromArray(F, x, xo + c);
            a0 = FloatVector.fromArray(F, w, c).fma(xv, a0);
            a1 = FloatVector.fromArray(F, w, c1 + c).fma(xv, a1);
            a2 = FloatVector.fromArray(F, w, c2 + c).fma(xv, a2);
            a3 = FloatVector.fromArray(F, w, c3 + c).fma(xv, a3);
        }
        if (colsV == cols) {
            a0.intoArray(acc, 0);
            a1.intoArray(acc, 16);
            a2.intoArray(acc, 32);
            a3.intoArray(acc, 48);
            fold4(acc, 0);
            System.arraycopy(acc, 0, out, oo, 4);
            return;
        }
        out[oo] = finish(a0, w, 0, x, xo, acc);
        out[oo + 1] = finish(a1, w, c1, x, xo, acc);
        out[oo + 2] = finish(a2, w, c2, x, xo, acc);
        out[oo + 3] = finish(a3, w, c3, x, xo, acc);
    }

    /** 1 panel row (at {@code wo}) × 4 tokens; out(j) at {@code oo + j·outStride}. */
    private void kernel1x4(float[] w, int wo, float[] x, int xo, float[] out, int oo, int outStride, float[] acc) {
        int c1 = cols, c2 = 2 * cols, c3 = 3 * cols;
        FloatVector a0 = FloatVector.zero(F), a1 = a0, a2 = a0, a3 = a0;
        for (int c = 0; c < colsV; c += L) {
            FloatVector wv = FloatVector.fromArray(F, w, wo + c);
            a0 = wv.fma(FloatVector.fromArray(F, x, xo + c), a0);
            a1 = wv.fma(FloatVector.fromArray(F, x, xo + c1 + c), a1);
            a2 = wv.fma(FloatVector.fromArray(F, x, xo + c2 + c), a2);
            a3 = wv.fma(FloatVector.fromArray(F, x, xo + c3 + c), a3);
        }
        out[oo] = finish(a0, w, wo, x, xo, acc);
        out[oo + outStride] = finish(a1, w, wo, x, xo + c1, acc);
        out[oo + 2 * outStride] = finish(a2, w, wo, x, xo + c2, acc);
        out[oo + 3 * outStride] = finish(a3, w, wo, x, xo + c3, acc);
    }

    private void kernel1x1(float[] w, int wo, float[] x, int xo, float[] out, int oo, float[] acc) {
        FloatVector a = FloatVector.zero(F);
        for (int c = 0; c < colsV; c += L) {
            a = FloatVector.fromArray(F, w, wo + c).fma(FloatVector.fromArray(F, x, xo + c), a);
        }
        out[oo] = finish(a, w, wo, x, xo, acc);
    }

    /** Folds the accumulator and adds the scalar tail columns (element types only), in canonical order. */
    final float finish(FloatVector sum, float[] w, int wo, float[] x, int xo, float[] acc) {
        float s = foldHalves(sum, acc);
        for (int c = colsV; c < cols; c++) {
            s = Math.fma(w[wo + c], x[xo + c], s);
        }
        return s;
    }

    /** Sum of the lanes of {@code sum} in the canonical fold-halves order, using {@code acc} as scratch. */
    static float foldHalves(FloatVector sum, float[] acc) {
        sum.intoArray(acc, 0);
        return VectorOps.foldHalves(acc);
    }

    private void checkMatmul(float[] x, int n, float[] out, int outStride, int r0, int r1) {
        Objects.requireNonNull(x, "x");
        Objects.requireNonNull(out, "out");
        if (n < 0) throw new IllegalArgumentException("matmul: token count " + n + " is negative");
        if (r0 < 0 || r1 > rows || r0 > r1) {
            throw new IllegalArgumentException("matmul: row range [" + r0 + ", " + r1 + ") is outside [0, " + rows + ")");
        }
        if (n == 0 || r0 == r1) return;
        if ((long) n * cols > x.length) {
            throw new IllegalArgumentException("matmul: x has " + x.length + " floats, " + n + " tokens × " + cols
                    + " columns need " + (long) n * cols);
        }
        if (outStride < r1 || (long) (n - 1) * outStride + r1 > out.length) {
            throw new IllegalArgumentException("matmul: out has " + out.length + " floats with stride " + outStride
                    + ", " + n + " tokens × rows up to " + r1 + " do not fit");
        }
    }

    /** Per-thread buffers, so hot loops never allocate. */
    static final class Scratch {
        private static final ThreadLocal<Scratch> LOCAL = ThreadLocal.withInitial(Scratch::new);
        /** Accumulator spill space: 16 vectors 16 floats apart (a 4×4 tile). */
        final float[] acc = new float[16 * 16];
        private float[] panel = new float[0];
        private byte[] bytes = new byte[0];
        private short[] shorts = new short[0];

        static Scratch get() {
            return LOCAL.get();
        }

        float[] panel(int size) {
            if (panel.length < size) panel = new float[size];
            return panel;
        }

        short[] shorts(int size) {
            if (shorts.length < size) shorts = new short[size];
            return shorts;
        }

        byte[] bytes(int size) {
            if (bytes.length < size) bytes = new byte[size];
            return bytes;
        }
    }
}
