package dev.quill.engine.model;

import dev.quill.engine.gguf.GgufFile;
import dev.quill.engine.gguf.TensorInfo;
import dev.quill.engine.tensor.Quantization;
import java.util.ArrayList;
import java.util.List;

/**
 * The forward pass written as plainly as possible, for tests only: double precision, weights dequantized up front
 * with the scalar reference dequantizer, one token at a time, keys and values in growing lists. It follows the
 * architecture definitions directly and shares no code with {@link Transformer} beyond reading the configuration.
 */
final class ReferenceModel {

    private final ModelConfig c;
    private final boolean neox;
    private final double[][] embedding;
    private final double[][] output;
    private final double[] outputNorm;
    private final double[] ropeFactors;
    private final Layer[] layers;
    /** keys.get(layer).get(position) = all key heads of that position, after rope. */
    private final List<List<double[]>> keys = new ArrayList<>();
    private final List<List<double[]>> values = new ArrayList<>();

    private record Layer(double[] attnNorm, double[][] wq, double[][] wk, double[][] wv, double[] bq, double[] bk,
                         double[] bv, double[] qNorm, double[] kNorm, double[][] wo, double[] ffnNorm,
                         double[][] gate, double[][] up, double[][] down) {}

    ReferenceModel(GgufFile file) {
        this(file, ModelConfig.from(file.metadata()).architecture().neoxRope);
    }

    /** {@code neox} overrides the rope style, to show that the tests would notice the wrong one. */
    ReferenceModel(GgufFile file, boolean neox) {
        this.c = ModelConfig.from(file.metadata());
        this.neox = neox;
        this.embedding = matrix(file, "token_embd.weight");
        this.output = file.tensors().containsKey("output.weight") ? matrix(file, "output.weight") : embedding;
        this.outputNorm = vector(file, "output_norm.weight");
        this.ropeFactors = file.tensors().containsKey("rope_freqs.weight") ? vector(file, "rope_freqs.weight") : null;
        this.layers = new Layer[c.layers()];
        for (int l = 0; l < c.layers(); l++) {
            String b = "blk." + l + ".";
            layers[l] = new Layer(vector(file, b + "attn_norm.weight"),
                    matrix(file, b + "attn_q.weight"), matrix(file, b + "attn_k.weight"), matrix(file, b + "attn_v.weight"),
                    optionalVector(file, b + "attn_q.bias"), optionalVector(file, b + "attn_k.bias"),
                    optionalVector(file, b + "attn_v.bias"),
                    optionalVector(file, b + "attn_q_norm.weight"), optionalVector(file, b + "attn_k_norm.weight"),
                    matrix(file, b + "attn_output.weight"), vector(file, b + "ffn_norm.weight"),
                    matrix(file, b + "ffn_gate.weight"), matrix(file, b + "ffn_up.weight"), matrix(file, b + "ffn_down.weight"));
            keys.add(new ArrayList<>());
            values.add(new ArrayList<>());
        }
    }

    /** Runs the next token of the sequence (at position = tokens so far) and returns its logits. */
    double[] step(int token) {
        int pos = keys.get(0).size();
        double[] x = embedding[token].clone();
        int hd = c.headDim();
        int vd = c.valueDim();
        for (int l = 0; l < c.layers(); l++) {
            Layer w = layers[l];
            double[] xn = rmsnorm(x, w.attnNorm());
            double[] q = add(matvec(w.wq(), xn), w.bq());
            double[] k = add(matvec(w.wk(), xn), w.bk());
            double[] v = add(matvec(w.wv(), xn), w.bv());
            for (int h = 0; h < c.heads(); h++) headNormAndRope(q, h * hd, w.qNorm(), pos);
            for (int h = 0; h < c.kvHeads(); h++) headNormAndRope(k, h * hd, w.kNorm(), pos);
            keys.get(l).add(k);
            values.get(l).add(v);

            double[] att = new double[c.heads() * vd];
            for (int h = 0; h < c.heads(); h++) {
                int kvh = h / (c.heads() / c.kvHeads());
                double[] scores = new double[pos + 1];
                double max = Double.NEGATIVE_INFINITY;
                for (int p = 0; p <= pos; p++) {
                    double s = 0;
                    for (int d = 0; d < hd; d++) s += q[h * hd + d] * keys.get(l).get(p)[kvh * hd + d];
                    scores[p] = s / Math.sqrt(hd);
                    max = Math.max(max, scores[p]);
                }
                double sum = 0;
                for (int p = 0; p <= pos; p++) {
                    scores[p] = Math.exp(scores[p] - max);
                    sum += scores[p];
                }
                for (int p = 0; p <= pos; p++) {
                    for (int d = 0; d < vd; d++) att[h * vd + d] += scores[p] / sum * values.get(l).get(p)[kvh * vd + d];
                }
            }
            x = add(x, matvec(w.wo(), att));

            double[] xf = rmsnorm(x, w.ffnNorm());
            double[] g = matvec(w.gate(), xf);
            double[] u = matvec(w.up(), xf);
            double[] hidden = new double[g.length];
            for (int i = 0; i < g.length; i++) hidden[i] = g[i] / (1 + Math.exp(-g[i])) * u[i];
            x = add(x, matvec(w.down(), hidden));
        }
        return matvec(output, rmsnorm(x, outputNorm));
    }

    /** Optional per-head RMSNorm (Qwen3), then rope of the head starting at {@code off}. */
    private void headNormAndRope(double[] x, int off, double[] norm, int pos) {
        int hd = c.headDim();
        if (norm != null) {
            double[] head = new double[hd];
            System.arraycopy(x, off, head, 0, hd);
            System.arraycopy(rmsnorm(head, norm), 0, x, off, hd);
        }
        int n = c.ropeDims();
        for (int i = 0; i < n / 2; i++) {
            double freq = Math.pow(c.ropeTheta(), -2.0 * i / n);
            if (ropeFactors != null) freq /= ropeFactors[i];
            double angle = pos * c.ropeFreqScale() * freq;
            // NORMAL rope rotates elements (2i, 2i+1); NeoX rotates (i, i + n/2).
            int a = neox ? off + i : off + 2 * i;
            int b = neox ? off + i + n / 2 : off + 2 * i + 1;
            double x0 = x[a];
            double x1 = x[b];
            x[a] = x0 * Math.cos(angle) - x1 * Math.sin(angle);
            x[b] = x0 * Math.sin(angle) + x1 * Math.cos(angle);
        }
    }

    private double[] rmsnorm(double[] x, double[] weight) {
        double ss = 0;
        for (double v : x) ss += v * v;
        double scale = 1 / Math.sqrt(ss / x.length + c.rmsEps());
        double[] out = new double[x.length];
        for (int i = 0; i < x.length; i++) out[i] = x[i] * scale * weight[i];
        return out;
    }

    private static double[] matvec(double[][] w, double[] x) {
        double[] out = new double[w.length];
        for (int r = 0; r < w.length; r++) {
            double s = 0;
            for (int i = 0; i < x.length; i++) s += w[r][i] * x[i];
            out[r] = s;
        }
        return out;
    }

    private static double[] add(double[] a, double[] b) {
        if (b == null) return a;
        double[] out = new double[a.length];
        for (int i = 0; i < a.length; i++) out[i] = a[i] + b[i];
        return out;
    }

    private static double[][] matrix(GgufFile file, String name) {
        TensorInfo t = file.tensor(name);
        int cols = (int) t.dims()[0];
        int rows = (int) t.dims()[1];
        float[] row = new float[cols];
        double[][] m = new double[rows][cols];
        for (int r = 0; r < rows; r++) {
            Quantization.dequantize(t.type(), file.data(t), (long) r * cols, row, 0, cols);
            for (int i = 0; i < cols; i++) m[r][i] = row[i];
        }
        return m;
    }

    private static double[] vector(GgufFile file, String name) {
        TensorInfo t = file.tensor(name);
        float[] v = new float[(int) t.dims()[0]];
        Quantization.dequantize(t.type(), file.data(t), 0, v, 0, v.length);
        double[] out = new double[v.length];
        for (int i = 0; i < v.length; i++) out[i] = v[i];
        return out;
    }

    private static double[] optionalVector(GgufFile file, String name) {
        return file.tensors().containsKey(name) ? vector(file, name) : null;
    }
}
