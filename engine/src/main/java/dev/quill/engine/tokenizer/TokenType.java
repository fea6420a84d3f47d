package dev.quill.engine.tokenizer;

/** Kinds of vocabulary entries, as stored in {@code tokenizer.ggml.token_type} (llama.cpp's llama_token_type). */
enum TokenType {
    UNDEFINED, NORMAL, UNKNOWN, CONTROL, USER_DEFINED, UNUSED, BYTE;

    private static final TokenType[] BY_ID = values();

    /** The type stored as {@code id} in GGUF; ids outside 0..6 are UNDEFINED, as in llama.cpp. */
    static TokenType fromGguf(int id) {
        return id >= 0 && id < BY_ID.length ? BY_ID[id] : UNDEFINED;
    }
}
