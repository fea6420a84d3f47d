/**
 * Tokenizers built from GGUF metadata: {@link dev.quill.engine.tokenizer.Tokenizers#fromMetadata} returns a
 * {@link dev.quill.engine.tokenizer.Tokenizer} for SentencePiece-style vocabularies ({@code tokenizer.ggml.model =
 * "llama"}: Llama 2, Mistral, Gemma) and byte-level BPE ones ({@code "gpt2"}: Llama 3, Qwen 2/3, GPT-2 and kin).
 *
 * <p>Behaviour follows llama.cpp's llama-vocab (the algorithms and the defaults for missing keys) and is checked
 * token for token against Hugging Face tokenizers on real vocabularies (see tools/tokenizer-fixtures). Where the two
 * differ this package sides with the model's own tokenizer: text is never merged into a control token, Qwen text is
 * NFC-normalised, and an end-of-generation token must be a control token.
 */
package dev.quill.engine.tokenizer;
