package dev.quill.engine.tokenizer;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class PieceIndexTest {
    private static final PieceIndex INDEX = new PieceIndex(new String[] {"a", "ab", "b", "▁ab", "", "Ġ"});

    @Test
    void findsWholePiecesAndRanges() {
        assertThat(INDEX.id("ab")).isEqualTo(1);
        assertThat(INDEX.id("▁ab")).isEqualTo(3);
        assertThat(INDEX.id("")).isEqualTo(4);
        assertThat(INDEX.id("abc")).isEqualTo(-1);
        assertThat(INDEX.id("xxaby", 2, 4)).isEqualTo(1);
        assertThat(INDEX.id("xxaby", 2, 3)).isEqualTo(0);
    }

    @Test
    void findsAPieceSpelledWithOneCharacterLeftOut() {
        assertThat(INDEX.idSkipping("a b", 0, 1, 3)).isEqualTo(1);
        assertThat(INDEX.idSkipping("▁a b", 0, 2, 4)).isEqualTo(3);
        assertThat(INDEX.idSkipping("a c", 0, 1, 3)).isEqualTo(-1);
    }

    @Test
    void reportsTheFirstRepeatedPiece() {
        assertThat(INDEX.firstDuplicate()).isEqualTo(-1);
        assertThat(new PieceIndex(new String[] {"a", "b", "a", "b"}).firstDuplicate()).isEqualTo(2);
    }

    @Test
    void handlesManyPieces() {
        String[] pieces = new String[50_000];
        for (int i = 0; i < pieces.length; i++) pieces[i] = Integer.toString(i, 36);
        PieceIndex index = new PieceIndex(pieces);
        for (int i = 0; i < pieces.length; i += 997) assertThat(index.id(pieces[i])).isEqualTo(i);
    }
}
