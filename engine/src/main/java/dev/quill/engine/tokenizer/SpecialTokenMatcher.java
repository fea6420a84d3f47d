package dev.quill.engine.tokenizer;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Finds the texts of special tokens in a string before the model's tokenizer runs. User-defined tokens are always
 * recognised (llama.cpp and Hugging Face both split them out of any text); control and unknown tokens only when the
 * caller asks for it, so that user text cannot smuggle in {@code <|im_start|>} and the like. At each position the
 * longest matching token wins, scanning left to right.
 */
final class SpecialTokenMatcher {

    /** A piece of the input: either text for the model's tokenizer ({@code token == -1}) or one special token. */
    record Segment(String text, int token) {
        boolean isToken() {
            return token >= 0;
        }
    }

    private static final class Node {
        final Map<Character, Node> children = new HashMap<>(4);
        int token = -1;
        boolean needsParseSpecial;
    }

    private final Node root = new Node();
    private final boolean empty;

    SpecialTokenMatcher(Vocabulary vocab) {
        boolean any = false;
        for (int id = 0; id < vocab.size(); id++) {
            TokenType type = vocab.type(id);
            boolean userDefined = type == TokenType.USER_DEFINED;
            if (!userDefined && type != TokenType.CONTROL && type != TokenType.UNKNOWN) continue;
            String piece = vocab.piece(id);
            Node node = root;
            for (int i = 0; i < piece.length(); i++) node = node.children.computeIfAbsent(piece.charAt(i), c -> new Node());
            node.token = id;
            node.needsParseSpecial = !userDefined;
            any = true;
        }
        empty = !any;
    }

    /** Splits {@code text} into text segments and special tokens, in order; never returns empty text segments. */
    List<Segment> split(String text, boolean parseSpecial) {
        List<Segment> out = new ArrayList<>(1);
        if (text.isEmpty()) return out;
        if (empty) {
            out.add(new Segment(text, -1));
            return out;
        }
        int textStart = 0;
        int i = 0;
        while (i < text.length()) {
            int matchLength = 0;
            int matchToken = -1;
            Node node = root;
            for (int j = i; j < text.length(); j++) {
                node = node.children.get(text.charAt(j));
                if (node == null) break;
                if (node.token >= 0 && (parseSpecial || !node.needsParseSpecial)) {
                    matchLength = j - i + 1;
                    matchToken = node.token;
                }
            }
            if (matchToken < 0) {
                i++;
                continue;
            }
            if (i > textStart) out.add(new Segment(text.substring(textStart, i), -1));
            out.add(new Segment(null, matchToken));
            i += matchLength;
            textStart = i;
        }
        if (textStart < text.length()) out.add(new Segment(text.substring(textStart), -1));
        return out;
    }
}
