package dev.quill.engine.tokenizer;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.function.IntFunction;

/**
 * Turns a stream of token byte strings into text without ever splitting a character: bytes of a UTF-8 sequence that
 * is still incomplete are held back until the token that completes it arrives. Bytes that can never become valid
 * (a stray continuation byte, 0xFF, ...) are not held; they come out as U+FFFD right away.
 */
final class Utf8StreamDecoder implements Tokenizer.StreamingDecoder {
    private final IntFunction<byte[]> tokenBytes;
    private byte[] pending = new byte[8];
    private int pendingLength;

    Utf8StreamDecoder(IntFunction<byte[]> tokenBytes) {
        this.tokenBytes = tokenBytes;
    }

    @Override
    public String next(int id) {
        byte[] bytes = tokenBytes.apply(id);
        if (pendingLength + bytes.length > pending.length) {
            pending = Arrays.copyOf(pending, Math.max(pending.length * 2, pendingLength + bytes.length));
        }
        System.arraycopy(bytes, 0, pending, pendingLength, bytes.length);
        pendingLength += bytes.length;
        int complete = completePrefixLength(pending, pendingLength);
        return take(complete);
    }

    @Override
    public String finish() {
        return take(pendingLength);
    }

    private String take(int length) {
        if (length == 0) return "";
        String text = new String(pending, 0, length, StandardCharsets.UTF_8);
        System.arraycopy(pending, length, pending, 0, pendingLength - length);
        pendingLength -= length;
        return text;
    }

    /**
     * The length of the longest prefix that does not end inside a UTF-8 sequence that could still be completed. Only
     * the last (at most 3) bytes can belong to such a sequence.
     */
    static int completePrefixLength(byte[] b, int length) {
        int start = length - 1;
        // Walk back over continuation bytes to the lead byte of the last sequence.
        while (start >= 0 && length - start <= 3 && (b[start] & 0xC0) == 0x80) start--;
        if (start < 0 || (b[start] & 0xC0) == 0x80) return length; // no lead byte nearby: nothing to wait for
        int needed = sequenceLength(b[start] & 0xFF);
        int have = length - start;
        if (needed <= have) return length;
        if (have >= 2 && !validSecondByte(b[start] & 0xFF, b[start + 1] & 0xFF)) return length;
        return start;
    }

    /** Bytes in the sequence a lead byte starts; 1 for ASCII and for bytes that cannot start a sequence. */
    private static int sequenceLength(int lead) {
        if (lead >= 0xC2 && lead <= 0xDF) return 2;
        if (lead >= 0xE0 && lead <= 0xEF) return 3;
        if (lead >= 0xF0 && lead <= 0xF4) return 4;
        return 1;
    }

    /** UTF-8 forbids overlong forms, surrogates and code points above U+10FFFF via the second byte's range. */
    private static boolean validSecondByte(int lead, int second) {
        return switch (lead) {
            case 0xE0 -> second >= 0xA0;
            case 0xED -> second <= 0x9F;
            case 0xF0 -> second >= 0x90;
            case 0xF4 -> second <= 0x8F;
            default -> true;
        };
    }
}
