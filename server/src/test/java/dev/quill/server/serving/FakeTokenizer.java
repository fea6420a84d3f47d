package dev.quill.server.serving;

import dev.quill.engine.tokenizer.Tokenizer;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A tiny deterministic vocabulary for serving tests: special tokens, a few two-letter tokens (so that text and token
 * boundaries differ), every printable ASCII character, and byte-fallback tokens for everything else.
 */
final class FakeTokenizer implements Tokenizer {

    static final int BOS = 0;
    static final int EOS = 1;
    static final int IM_START = 2;
    static final int IM_END = 3;

    private static final List<String> SPECIALS = List.of("<s>", "</s>", "<|im_start|>", "<|im_end|>");
    private static final List<String> FIM = List.of("<|fim_prefix|>", "<|fim_suffix|>", "<|fim_middle|>");
    private static final List<String> PAIRS = List.of("ow", "he", "qu");

    private final List<String> pieces = new ArrayList<>();
    private final Map<String, Integer> ids = new HashMap<>();
    private final int specialCount;
    private final int byteBase;

    FakeTokenizer(boolean withFim) {
        SPECIALS.forEach(this::add);
        if (withFim) FIM.forEach(this::add);
        specialCount = pieces.size();
        PAIRS.forEach(this::add);
        for (char c = 32; c < 127; c++) add(String.valueOf(c));
        byteBase = pieces.size();
        for (int b = 0; b < 256; b++) add(String.format("<0x%02X>", b));
    }

    private void add(String piece) {
        ids.put(piece, pieces.size());
        pieces.add(piece);
    }

    int byteToken(int b) {
        return byteBase + b;
    }

    @Override
    public int[] encode(String text, boolean addSpecial, boolean parseSpecial) {
        List<Integer> out = new ArrayList<>();
        if (addSpecial) out.add(BOS);
        int i = 0;
        outer:
        while (i < text.length()) {
            if (parseSpecial) {
                for (int s = 0; s < specialCount; s++) {
                    if (text.startsWith(pieces.get(s), i)) {
                        out.add(s);
                        i += pieces.get(s).length();
                        continue outer;
                    }
                }
            }
            for (String pair : PAIRS) {
                if (text.startsWith(pair, i)) {
                    out.add(ids.get(pair));
                    i += 2;
                    continue outer;
                }
            }
            char c = text.charAt(i);
            if (c >= 32 && c < 127) {
                out.add(ids.get(String.valueOf(c)));
                i++;
            } else {
                int cp = text.codePointAt(i);
                for (byte b : new String(Character.toChars(cp)).getBytes(StandardCharsets.UTF_8)) out.add(byteToken(b & 0xff));
                i += Character.charCount(cp);
            }
        }
        return out.stream().mapToInt(Integer::intValue).toArray();
    }

    @Override
    public String decode(int[] tokenIds) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        for (int id : tokenIds) bytes.writeBytes(tokenBytes(id));
        return bytes.toString(StandardCharsets.UTF_8);
    }

    @Override
    public byte[] tokenBytes(int id) {
        if (id >= byteBase) return new byte[] {(byte) (id - byteBase)};
        return pieces.get(id).getBytes(StandardCharsets.UTF_8);
    }

    @Override
    public String tokenPiece(int id) {
        return pieces.get(id);
    }

    @Override
    public int tokenId(String piece) {
        return ids.getOrDefault(piece, -1);
    }

    @Override
    public int vocabSize() {
        return pieces.size();
    }

    @Override
    public int bosId() {
        return BOS;
    }

    @Override
    public int eosId() {
        return EOS;
    }

    @Override
    public Set<Integer> endOfGenerationIds() {
        return Set.of(EOS, IM_END);
    }

    @Override
    public boolean isSpecial(int id) {
        return id < specialCount;
    }

    @Override
    public StreamingDecoder newStreamingDecoder() {
        return new StreamingDecoder() {
            private final ByteArrayOutputStream pending = new ByteArrayOutputStream();

            @Override
            public String next(int id) {
                pending.writeBytes(tokenBytes(id));
                try {
                    String text = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                            .decode(ByteBuffer.wrap(pending.toByteArray())).toString();
                    pending.reset();
                    return text;
                } catch (CharacterCodingException incomplete) {
                    return "";
                }
            }

            @Override
            public String finish() {
                String rest = pending.toString(StandardCharsets.UTF_8);
                pending.reset();
                return rest;
            }
        };
    }
}
