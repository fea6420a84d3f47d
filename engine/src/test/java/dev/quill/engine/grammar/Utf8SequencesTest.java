package dev.quill.engine.grammar;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class Utf8SequencesTest {

    private static boolean matchesSome(List<int[]> sequences, byte[] bytes) {
        for (int[] s : sequences) {
            if (s.length != 2 * bytes.length) continue;
            boolean ok = true;
            for (int k = 0; k < bytes.length && ok; k++) ok = (bytes[k] & 0xFF) >= s[2 * k] && (bytes[k] & 0xFF) <= s[2 * k + 1];
            if (ok) return true;
        }
        return false;
    }

    @Test
    void aCodePointsEncodingMatchesExactlyWhenItIsInTheSet() {
        Random random = new Random(42);
        for (int trial = 0; trial < 40; trial++) {
            int[] bounds = new int[6];
            for (int i = 0; i < bounds.length; i += 2) {
                int a = random.nextInt(trial % 2 == 0 ? 0x800 : Chars.MAX_CODE_POINT + 1);
                int b = Math.min(Chars.MAX_CODE_POINT, a + random.nextInt(trial % 3 == 0 ? 5 : 70_000));
                bounds[i] = a;
                bounds[i + 1] = b;
            }
            Chars set = Chars.ranges(bounds);
            List<int[]> sequences = Utf8Sequences.of(set);
            for (int cp = 0; cp <= Chars.MAX_CODE_POINT; cp += cp < 0x3000 ? 1 : 7) {
                if (Character.isSurrogate((char) cp) && cp <= 0xFFFF) continue;
                byte[] encoded = Character.toString(cp).getBytes(StandardCharsets.UTF_8);
                assertThat(matchesSome(sequences, encoded)).as("U+%04X in %s", cp, set).isEqualTo(set.contains(cp));
            }
        }
    }

    @Test
    void noIllFormedBytesMatch() {
        List<int[]> everything = Utf8Sequences.of(Chars.ANY);
        assertThat(matchesSome(everything, new byte[] {(byte) 0xC0, (byte) 0xAF})).as("overlong '/'").isFalse();
        assertThat(matchesSome(everything, new byte[] {(byte) 0xE0, (byte) 0x80, (byte) 0x80})).as("overlong NUL").isFalse();
        assertThat(matchesSome(everything, new byte[] {(byte) 0xED, (byte) 0xA0, (byte) 0x80})).as("surrogate").isFalse();
        assertThat(matchesSome(everything, new byte[] {(byte) 0xF4, (byte) 0x90, (byte) 0x80, (byte) 0x80})).as("past U+10FFFF").isFalse();
        assertThat(matchesSome(everything, new byte[] {(byte) 0xF8, (byte) 0x88, (byte) 0x80, (byte) 0x80})).isFalse();
        assertThat(everything).as("1-4 byte forms, few sequences").hasSizeLessThan(12);
    }
}
