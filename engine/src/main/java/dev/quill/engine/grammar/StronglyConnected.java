package dev.quill.engine.grammar;

import java.util.Arrays;
import java.util.function.IntFunction;
import java.util.function.IntUnaryOperator;

/** Strongly connected components (Tarjan's algorithm, with an explicit stack so that long chains cannot overflow). */
final class StronglyConnected {

    private StronglyConnected() {}

    /**
     * @param nodes   node count
     * @param edges   the encoded out-edges of a node
     * @param target  decodes an out-edge to its target node
     * @return each node's component number; two nodes share a number iff each reaches the other
     */
    static int[] components(int nodes, IntFunction<int[]> edges, IntUnaryOperator target) {
        int[] index = new int[nodes], low = new int[nodes], component = new int[nodes];
        Arrays.fill(index, -1);
        boolean[] onStack = new boolean[nodes];
        int[] stack = new int[nodes];
        int[] callNode = new int[nodes], callEdge = new int[nodes];
        int stackSize = 0, counter = 0, components = 0;
        for (int start = 0; start < nodes; start++) {
            if (index[start] >= 0) continue;
            int depth = 0;
            callNode[0] = start;
            callEdge[0] = 0;
            index[start] = low[start] = counter++;
            stack[stackSize++] = start;
            onStack[start] = true;
            while (depth >= 0) {
                int v = callNode[depth];
                int[] out = edges.apply(v);
                if (callEdge[depth] < out.length) {
                    int w = target.applyAsInt(out[callEdge[depth]++]);
                    if (index[w] < 0) {
                        index[w] = low[w] = counter++;
                        stack[stackSize++] = w;
                        onStack[w] = true;
                        depth++;
                        callNode[depth] = w;
                        callEdge[depth] = 0;
                    } else if (onStack[w]) {
                        low[v] = Math.min(low[v], index[w]);
                    }
                    continue;
                }
                if (low[v] == index[v]) {
                    int w;
                    do {
                        w = stack[--stackSize];
                        onStack[w] = false;
                        component[w] = components;
                    } while (w != v);
                    components++;
                }
                depth--;
                if (depth >= 0) low[callNode[depth]] = Math.min(low[callNode[depth]], low[v]);
            }
        }
        return component;
    }
}
