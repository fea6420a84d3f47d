package dev.quill.engine.tokenizer;

import dev.quill.engine.gguf.GgufException;
import java.text.Normalizer;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Splits text into the words that byte-level BPE merges within, chosen by {@code tokenizer.ggml.pre}. A pre-tokenizer
 * is a chain of regexes applied in turn: each splits every piece so far into its matches and the text between them
 * (llama.cpp's unicode_regex_split). The per-model flags are llama.cpp's for the same names.
 *
 * @param name         the {@code tokenizer.ggml.pre} value
 * @param nfc          normalise text to NFC first (the Qwen tokenizers' normalizer; llama.cpp skips it)
 * @param ignoreMerges a word that is itself a vocabulary token is taken whole, without merging
 * @param addBos       whether BOS is added when the file has no {@code tokenizer.ggml.add_bos_token}
 */
record PreTokenizer(String name, List<Pattern> patterns, boolean nfc, boolean ignoreMerges, boolean addBos) {

    private static final String CONTRACTIONS = "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])";
    /** Llama 3 (tiktoken cl100k style): numbers in groups of up to three digits. */
    private static final String LLAMA3 = CONTRACTIONS + "|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}"
            + "| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
    /** Qwen 2 / 3: like Llama 3 but one digit per word. */
    private static final String QWEN2 = CONTRACTIONS + "|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}"
            + "| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
    /** GPT-2. */
    private static final String GPT2 = "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";

    private static final Map<String, PreTokenizer> BY_NAME = new TreeMap<>();

    private static void define(List<String> regexes, boolean nfc, boolean ignoreMerges, boolean addBos,
                               String... names) {
        List<Pattern> patterns = regexes.stream().map(r -> Pattern.compile(r, Pattern.UNICODE_CHARACTER_CLASS)).toList();
        for (String name : names) BY_NAME.put(name, new PreTokenizer(name, patterns, nfc, ignoreMerges, addBos));
    }

    static {
        define(List.of(LLAMA3), false, true, true,
                "llama3", "llama-v3", "llama-bpe", "falcon3", "falcon-h1", "midm-2.0", "lfm2");
        define(List.of(LLAMA3), false, false, false, "dbrx", "smaug-bpe");
        define(List.of(QWEN2), true, false, false, "qwen2", "deepseek-r1-qwen");
        define(List.of(QWEN2), false, false, false, "stablelm2", "megrez", "hunyuan");
        define(List.of(GPT2), false, false, false, "gpt-2", "gpt2", "phi-2", "mpt", "olmo", "jais", "exaone4");
        define(List.of("\\p{N}", GPT2), false, false, false,
                "starcoder", "refact", "command-r", "smollm", "codeshell", "exaone", "minerva-7b");
        // llama.cpp's fallback for unrecognised BPE models.
        define(List.of("[\\p{P}\\$\\+<=>\\^~\\|]+", GPT2, "\\p{N}+", "[0-9][0-9][0-9]"), false, false, false,
                "default");
    }

    /** The pre-tokenizer called {@code name}; a missing name means llama.cpp's "default". */
    static PreTokenizer forName(String name) {
        PreTokenizer pre = BY_NAME.get(name == null || name.isEmpty() ? "default" : name);
        if (pre == null) {
            throw new GgufException("unsupported pre-tokenizer tokenizer.ggml.pre = '" + name + "' (supported: "
                    + String.join(", ", BY_NAME.keySet()) + ")");
        }
        return pre;
    }

    /** The words of {@code text}, in order; they concatenate back to (the NFC form of) {@code text}. */
    List<String> split(String text) {
        List<String> pieces = new ArrayList<>();
        pieces.add(nfc ? Normalizer.normalize(text, Normalizer.Form.NFC) : text);
        for (Pattern pattern : patterns) {
            List<String> finer = new ArrayList<>(pieces.size() * 4);
            for (String piece : pieces) {
                Matcher m = pattern.matcher(piece);
                int end = 0;
                while (m.find()) {
                    if (m.start() > end) finer.add(piece.substring(end, m.start()));
                    if (m.end() > m.start()) finer.add(piece.substring(m.start(), m.end()));
                    end = m.end();
                }
                if (end < piece.length()) finer.add(piece.substring(end));
            }
            pieces = finer;
        }
        return pieces;
    }
}
