package dev.quill.server.serving;

import dev.quill.engine.tokenizer.Tokenizer;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/** How single tokens are shown in logprobs: their text, or {@code bytes:\xNN} when they hold part of a character. */
final class TokenText {

    private TokenText() {}

    static String display(Tokenizer tokenizer, int id) {
        if (tokenizer.isSpecial(id)) return tokenizer.tokenPiece(id);
        byte[] bytes = tokenizer.tokenBytes(id);
        try {
            return StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(bytes)).toString();
        } catch (CharacterCodingException partialCharacter) {
            StringBuilder sb = new StringBuilder("bytes:");
            for (byte b : bytes) sb.append(String.format("\\x%02x", b & 0xff));
            return sb.toString();
        }
    }

    static List<Integer> bytes(Tokenizer tokenizer, int id) {
        byte[] bytes = tokenizer.isSpecial(id) ? tokenizer.tokenPiece(id).getBytes(StandardCharsets.UTF_8) : tokenizer.tokenBytes(id);
        List<Integer> out = new ArrayList<>(bytes.length);
        for (byte b : bytes) out.add(b & 0xff);
        return out;
    }

    /** JSON has no infinities: a -inf logprob (a banned token) is reported as -9999, as vLLM does. */
    static float finite(float logprob) {
        return Float.isFinite(logprob) ? logprob : (logprob > 0 ? Float.MAX_VALUE : -9999f);
    }
}
