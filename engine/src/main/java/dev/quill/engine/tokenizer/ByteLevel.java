package dev.quill.engine.tokenizer;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;

/**
 * GPT-2's reversible byte ⇄ character mapping. Byte-level BPE vocabularies spell every byte as one printable
 * character: printable Latin-1 bytes stand for themselves, the other 68 bytes are moved to U+0100 and up in byte
 * order (so the space byte is 'Ġ' U+0120 and the newline 'Ċ' U+010A).
 */
final class ByteLevel {
    private static final char[] BYTE_TO_CHAR = new char[256];
    private static final int[] CHAR_TO_BYTE = new int[0x144];

    static {
        java.util.Arrays.fill(CHAR_TO_BYTE, -1);
        int shifted = 0;
        for (int b = 0; b < 256; b++) {
            boolean printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
            char c = printable ? (char) b : (char) (256 + shifted++);
            BYTE_TO_CHAR[b] = c;
            CHAR_TO_BYTE[c] = b;
        }
    }

    private ByteLevel() {}

    /** The character that stands for byte {@code b}. */
    static char charOf(int b) {
        return BYTE_TO_CHAR[b & 0xFF];
    }

    /** Spells {@code bytes} in the byte-level alphabet: one character per byte. */
    static String encode(byte[] bytes) {
        char[] chars = new char[bytes.length];
        for (int i = 0; i < bytes.length; i++) chars[i] = BYTE_TO_CHAR[bytes[i] & 0xFF];
        return new String(chars);
    }

    /**
     * The bytes a byte-level piece spells. Characters outside the alphabet (which a well-formed vocabulary does not
     * contain) are kept as their own UTF-8 rather than dropped.
     */
    static byte[] decode(String piece) {
        byte[] bytes = new byte[piece.length()];
        for (int i = 0; i < bytes.length; i++) {
            char c = piece.charAt(i);
            if (c >= CHAR_TO_BYTE.length || CHAR_TO_BYTE[c] < 0) return decodeLeniently(piece);
            bytes[i] = (byte) CHAR_TO_BYTE[c];
        }
        return bytes;
    }

    private static byte[] decodeLeniently(String piece) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(piece.length());
        for (int i = 0; i < piece.length(); ) {
            int cp = piece.codePointAt(i);
            i += Character.charCount(cp);
            if (cp < CHAR_TO_BYTE.length && CHAR_TO_BYTE[cp] >= 0) {
                out.write(CHAR_TO_BYTE[cp]);
            } else {
                out.writeBytes(Character.toString(cp).getBytes(StandardCharsets.UTF_8));
            }
        }
        return out.toByteArray();
    }
}
