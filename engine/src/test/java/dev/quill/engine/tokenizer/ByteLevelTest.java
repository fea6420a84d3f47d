package dev.quill.engine.tokenizer;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;

class ByteLevelTest {

    @Test
    void spellsTheFamiliarGpt2Characters() {
        assertThat(ByteLevel.charOf(' ')).isEqualTo('Ġ');
        assertThat(ByteLevel.charOf('\n')).isEqualTo('Ċ');
        assertThat(ByteLevel.charOf('\t')).isEqualTo('ĉ');
        assertThat(ByteLevel.charOf('a')).isEqualTo('a');
        assertThat(ByteLevel.charOf(0xE9)).isEqualTo('é');
    }

    @Test
    void mapsEveryByteToItsOwnCharacterAndBack() {
        byte[] all = new byte[256];
        Set<Character> chars = new HashSet<>();
        for (int b = 0; b < 256; b++) {
            all[b] = (byte) b;
            chars.add(ByteLevel.charOf(b));
        }
        assertThat(chars).hasSize(256);
        assertThat(ByteLevel.decode(ByteLevel.encode(all))).isEqualTo(all);
    }

    @Test
    void keepsCharactersOutsideTheAlphabetAsUtf8() {
        assertThat(ByteLevel.decode("aĠ€")).containsExactly('a', ' ', 0xE2, 0x82, 0xAC);
    }
}
