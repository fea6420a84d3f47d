package dev.quill.engine.gguf;

/** A GGUF file (or its metadata) is malformed or unsupported; the message names the file, key or tensor. */
public class GgufException extends RuntimeException {
    public GgufException(String message) {
        super(message);
    }

    public GgufException(String message, Throwable cause) {
        super(message, cause);
    }
}
