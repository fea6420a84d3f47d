package dev.quill.engine.tokenizer;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.HexFormat;
import org.junit.jupiter.api.Test;

class Utf8StreamDecoderTest {

    /** A decoder whose "token" i is the single byte i. */
    private static Utf8StreamDecoder byteStream() {
        return new Utf8StreamDecoder(id -> new byte[] {(byte) id});
    }

    private static int completePrefix(String hex) {
        byte[] b = HexFormat.of().parseHex(hex);
        return Utf8StreamDecoder.completePrefixLength(b, b.length);
    }

    @Test
    void holdsBackOnlyAnIncompleteLastCharacter() {
        assertThat(completePrefix("61")).isEqualTo(1);
        assertThat(completePrefix("61c3")).isEqualTo(1);
        assertThat(completePrefix("61c3a9")).isEqualTo(3);
        assertThat(completePrefix("61f09fa6")).isEqualTo(1);
        assertThat(completePrefix("f09fa699")).isEqualTo(4);
        assertThat(completePrefix("e282")).isEqualTo(0);
    }

    @Test
    void doesNotWaitForBytesThatCanNeverFormACharacter() {
        assertThat(completePrefix("80")).isEqualTo(1);       // stray continuation byte
        assertThat(completePrefix("ff")).isEqualTo(1);       // never valid in UTF-8
        assertThat(completePrefix("c341")).isEqualTo(2);     // lead byte followed by ASCII
        assertThat(completePrefix("eda0")).isEqualTo(2);     // would encode a surrogate
        assertThat(completePrefix("f4908080")).isEqualTo(4); // above U+10FFFF: complete length, invalid
        assertThat(completePrefix("f490")).isEqualTo(2);
    }

    @Test
    void emitsEachCharacterWhenItsLastByteArrives() {
        Utf8StreamDecoder stream = byteStream();
        StringBuilder out = new StringBuilder();
        byte[] text = "a€🦙é".getBytes(StandardCharsets.UTF_8);
        for (byte b : text) {
            String piece = stream.next(b & 0xFF);
            assertThat(piece).doesNotContain("\uFFFD");
            out.append(piece);
        }
        assertThat(out.toString() + stream.finish()).isEqualTo("a€🦙é");
    }

    @Test
    void replacesInvalidBytesRightAwayAndFlushesAnUnfinishedCharacterAtTheEnd() {
        Utf8StreamDecoder stream = byteStream();
        assertThat(stream.next(0xFF)).isEqualTo("\uFFFD");
        assertThat(stream.next(0xF0)).isEmpty();
        assertThat(stream.next(0x9F)).isEmpty();
        assertThat(stream.finish()).isEqualTo("\uFFFD");
        assertThat(stream.finish()).isEmpty();
    }
}
