package dev.quill.cli;

import java.util.Arrays;

/** The summary statistics the benchmark commands print. */
final class Stats {

    private Stats() {
    }

    static double mean(double[] xs) {
        return xs.length == 0 ? Double.NaN : Arrays.stream(xs).sum() / xs.length;
    }

    /** Sample standard deviation (n − 1); 0 for fewer than two values. */
    static double sd(double[] xs) {
        if (xs.length < 2) return 0;
        double m = mean(xs);
        return Math.sqrt(Arrays.stream(xs).map(x -> (x - m) * (x - m)).sum() / (xs.length - 1));
    }

    /** The p-th percentile with linear interpolation between the two nearest ranks (as load.py computes it). */
    static double percentile(double[] xs, double p) {
        if (xs.length == 0) return Double.NaN;
        double[] sorted = xs.clone();
        Arrays.sort(sorted);
        double k = (sorted.length - 1) * p / 100.0;
        int f = (int) k;
        int c = Math.min(f + 1, sorted.length - 1);
        return sorted[f] + (sorted[c] - sorted[f]) * (k - f);
    }
}
