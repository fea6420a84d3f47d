package dev.quill.server.serving;

import dev.quill.engine.GeneratedToken;
import dev.quill.engine.tokenizer.Tokenizer;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * Turns one sequence's generated tokens into the text the client sees, watching for stop strings and for the terms
 * of the deployment's {@link ContentFilter}.
 *
 * <p>Both are matched on decoded text, so they are found even when split across tokens. Text that could be the
 * start of a stop string or a blocked term is held back until the next tokens decide it, so no part of one is ever
 * released (and so streamed). Release happens at token boundaries: every released {@link Piece} is exactly the text
 * of its tokens, except that a match cuts the last token's text at the stop string or the term. Streaming and
 * non-streaming responses are built from the same pieces and therefore agree.
 */
final class SequenceOutput {

    /** A token and where its text starts in the piece's text. */
    record Emitted(GeneratedToken token, int start) {}

    /** Text released by one step, and the tokens it came from (for logprobs). */
    record Piece(String text, List<Emitted> tokens) {
        static final Piece EMPTY = new Piece("", List.of());

        boolean isEmpty() {
            return text.isEmpty() && tokens.isEmpty();
        }
    }

    /** A held token and where its text lies in the held text. */
    private record Pending(GeneratedToken token, int start, int end) {}

    private final Tokenizer tokenizer;
    private final List<String> stops;
    private final int longestStop;
    private final boolean includeStop;
    private final boolean skipSpecial;
    private final Set<Integer> terminators;
    private final ContentFilter filter;
    private final StringBuilder held = new StringBuilder();
    private final ArrayDeque<Pending> heldTokens = new ArrayDeque<>();
    private int generated;
    private String matchedStop;
    private boolean filtered;

    /**
     * @param terminators tokens that end generation (end-of-generation ids unless ignore_eos, and stop_token_ids):
     *                    their text is never part of the output
     */
    SequenceOutput(Tokenizer tokenizer, List<String> stops, boolean includeStop, boolean skipSpecial, Set<Integer> terminators,
                   ContentFilter filter) {
        this.tokenizer = tokenizer;
        this.stops = List.copyOf(stops);
        this.longestStop = stops.stream().mapToInt(String::length).max().orElse(0);
        this.includeStop = includeStop;
        this.skipSpecial = skipSpecial;
        this.terminators = Set.copyOf(terminators);
        this.filter = filter;
    }

    /**
     * Takes the next token; returns what can be released now. After a stop string or a blocked term matched, nothing
     * more is taken.
     */
    Piece accept(GeneratedToken token) {
        if (ended()) throw new IllegalStateException("the sequence already ended");
        generated++;
        String text = textOf(token);
        int newFrom = held.length();
        held.append(text);
        heldTokens.add(new Pending(token, newFrom, held.length()));
        if (longestStop == 0 && filter.isEmpty()) return release(held.length());

        int blocked = filter.find(held, Math.max(0, newFrom - filter.longestTerm() + 1));
        int match = -1;
        String stop = null;
        int searchFrom = Math.max(0, newFrom - longestStop + 1);
        for (String s : stops) {
            int at = held.indexOf(s, searchFrom);
            if (at >= 0 && (match < 0 || at < match)) {
                match = at;
                stop = s;
            }
        }
        int stopCut = match < 0 ? -1 : includeStop ? match + stop.length() : match;
        if (blocked >= 0 && (stopCut < 0 || blocked < stopCut)) {
            // The term would be part of the text: cut before it. Tokens that hold part of it are left out of
            // logprobs too, since their text would show it.
            filtered = true;
            List<Emitted> tokens = new ArrayList<>();
            for (Pending p : heldTokens) {
                if (p.end() <= blocked) tokens.add(new Emitted(p.token(), p.start()));
            }
            return cut(blocked, tokens);
        }
        if (match >= 0) {
            matchedStop = stop;
            List<Emitted> tokens = new ArrayList<>();
            for (Pending p : heldTokens) tokens.add(new Emitted(p.token(), Math.min(p.start(), stopCut)));
            return cut(stopCut, tokens);
        }
        int safe = held.length() - Math.max(heldBackLength(), filter.unfinishedTermLength(held));
        int releaseEnd = 0;
        for (Pending p : heldTokens) {
            if (p.end() > safe) break;
            releaseEnd = p.end();
        }
        return release(releaseEnd);
    }

    /** The sequence ended without a stop string or blocked term: everything held back is released. */
    Piece finish() {
        if (ended()) return Piece.EMPTY;
        return release(held.length());
    }

    /** Whether a stop string or a blocked term ended the sequence. */
    boolean ended() {
        return matchedStop != null || filtered;
    }

    /** The stop string that ended the sequence, or null. */
    String matchedStop() {
        return matchedStop;
    }

    /** Whether a term of the content filter ended the sequence. */
    boolean filtered() {
        return filtered;
    }

    /** Tokens taken so far (including one that completed a stop string). */
    int generated() {
        return generated;
    }

    private String textOf(GeneratedToken token) {
        if (terminators.contains(token.id())) return "";
        if (skipSpecial && tokenizer.isSpecial(token.id())) return "";
        return token.text();
    }

    /** Length of the longest end of the held text that begins some stop string (and could still complete it). */
    private int heldBackLength() {
        for (int length = Math.min(longestStop - 1, held.length()); length > 0; length--) {
            String tail = held.substring(held.length() - length);
            for (String s : stops) {
                if (s.length() > length && s.startsWith(tail)) return length;
            }
        }
        return 0;
    }

    /** The final piece: the held text up to {@code end}, with these tokens; nothing stays held. */
    private Piece cut(int end, List<Emitted> tokens) {
        String out = held.substring(0, end);
        held.setLength(0);
        heldTokens.clear();
        return new Piece(out, tokens);
    }

    /** Releases the held tokens that end at or before {@code end} (a token boundary) and their text. */
    private Piece release(int end) {
        List<Emitted> tokens = new ArrayList<>();
        while (!heldTokens.isEmpty() && heldTokens.peek().end() <= end) {
            Pending p = heldTokens.poll();
            tokens.add(new Emitted(p.token(), p.start()));
        }
        if (tokens.isEmpty() && end == 0) return Piece.EMPTY;
        String out = held.substring(0, end);
        held.delete(0, end);
        List<Pending> rest = new ArrayList<>(heldTokens);
        heldTokens.clear();
        for (Pending p : rest) heldTokens.add(new Pending(p.token(), p.start() - end, p.end() - end));
        return new Piece(out, tokens);
    }
}
