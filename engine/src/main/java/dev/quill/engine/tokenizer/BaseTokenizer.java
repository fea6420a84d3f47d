package dev.quill.engine.tokenizer;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Objects;
import java.util.Set;
import java.util.function.Function;

/**
 * What SentencePiece-style and byte-level BPE tokenizers share: special-token splitting, BOS/EOS, token bytes,
 * decoding and streaming. Subclasses only turn plain text (free of recognised special tokens) into ids.
 */
abstract sealed class BaseTokenizer implements Tokenizer permits SentencePieceTokenizer, BytePairTokenizer {
    final Vocabulary vocab;
    private final SpecialTokenMatcher specials;
    private final byte[][] tokenBytes;
    private final boolean stripLeadingSpace;

    /**
     * @param normalPieceBytes  the bytes a normal token's piece stands for (the vocabulary's spelling of text)
     * @param stripLeadingSpace whether {@link #decode} drops one leading space, the one SentencePiece's dummy prefix
     *                          added when encoding
     */
    BaseTokenizer(Vocabulary vocab, Function<String, byte[]> normalPieceBytes, boolean stripLeadingSpace) {
        this.vocab = vocab;
        this.specials = new SpecialTokenMatcher(vocab);
        this.stripLeadingSpace = stripLeadingSpace;
        this.tokenBytes = new byte[vocab.size()][];
        for (int id = 0; id < tokenBytes.length; id++) {
            String piece = vocab.piece(id);
            tokenBytes[id] = switch (vocab.type(id)) {
                case NORMAL, UNDEFINED -> normalPieceBytes.apply(piece);
                case CONTROL, UNKNOWN, USER_DEFINED -> piece.getBytes(StandardCharsets.UTF_8);
                case BYTE -> byteTokenValue(piece, normalPieceBytes);
                case UNUSED -> new byte[0];
            };
        }
    }

    /** {@code <0xNN>} stands for byte NN; a BYTE token spelled otherwise is read like a normal one. */
    private static byte[] byteTokenValue(String piece, Function<String, byte[]> normalPieceBytes) {
        if (piece.length() == 6 && piece.startsWith("<0x") && piece.endsWith(">")) {
            try {
                return new byte[] {(byte) Integer.parseInt(piece, 3, 5, 16)};
            } catch (NumberFormatException e) {
                // not hex after all: fall through
            }
        }
        return normalPieceBytes.apply(piece);
    }

    /** Appends the ids of {@code text}, which holds no recognised special token. */
    abstract void encodeText(String text, boolean atStartOrAfterSpecial, IntList out);

    @Override
    public final int[] encode(String text, boolean addSpecial, boolean parseSpecial) {
        Objects.requireNonNull(text, "text");
        IntList out = new IntList(text.length() / 3 + 2);
        if (addSpecial && vocab.addBos) out.add(vocab.bos);
        boolean afterSpecial = true;
        for (SpecialTokenMatcher.Segment segment : specials.split(text, parseSpecial)) {
            if (segment.isToken()) {
                out.add(segment.token());
                afterSpecial = true;
            } else {
                encodeText(segment.text(), afterSpecial, out);
                afterSpecial = false;
            }
        }
        if (addSpecial && vocab.addEos) out.add(vocab.eos);
        return out.toArray();
    }

    /**
     * Concatenates the tokens' bytes. Like Hugging Face's decoders for SentencePiece models that add a dummy prefix,
     * the one space at the very start is dropped (there is none when the ids start with BOS, which renders as its
     * text). Streams that continue a prompt should use {@link #newStreamingDecoder()}, which keeps every space.
     */
    @Override
    public final String decode(int[] ids) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(ids.length * 4);
        for (int id : ids) out.writeBytes(tokenBytes[vocab.checked(id)]);
        byte[] bytes = out.toByteArray();
        int start = stripLeadingSpace && bytes.length > 0 && bytes[0] == ' ' ? 1 : 0;
        return new String(bytes, start, bytes.length - start, StandardCharsets.UTF_8);
    }

    @Override
    public final byte[] tokenBytes(int id) {
        return tokenBytes[vocab.checked(id)].clone();
    }

    @Override
    public final String tokenPiece(int id) {
        return vocab.piece(id);
    }

    @Override
    public final int tokenId(String piece) {
        return vocab.id(piece);
    }

    @Override
    public final int vocabSize() {
        return vocab.size();
    }

    @Override
    public final int bosId() {
        return vocab.bos;
    }

    @Override
    public final int eosId() {
        return vocab.eos;
    }

    @Override
    public final Set<Integer> endOfGenerationIds() {
        return vocab.endOfGeneration;
    }

    /** Control and unknown tokens: the ones that are markup for the model rather than text. */
    @Override
    public final boolean isSpecial(int id) {
        TokenType type = vocab.type(id);
        return type == TokenType.CONTROL || type == TokenType.UNKNOWN;
    }

    @Override
    public final StreamingDecoder newStreamingDecoder() {
        return new Utf8StreamDecoder(id -> tokenBytes[vocab.checked(id)]);
    }
}
