package dev.quill.server.serving;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.quill.server.protocol.ApiException;
import dev.quill.server.protocol.Json;
import jakarta.servlet.ServletOutputStream;
import jakarta.servlet.http.HttpServletResponse;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;

/**
 * Server-sent events written straight to the response: {@code data: {json}\n\n} per event, flushed at once (once
 * released), and {@code data: [DONE]} at the end. (Written by hand rather than with Javalin's SSE helper, which only streams when
 * the client sends {@code Accept: text/event-stream} — the OpenAI SDKs do not.) A failed write means the client
 * went away: it surfaces as {@link ClientGone}.
 */
final class SseStream {

    private final HttpServletResponse response;
    private ServletOutputStream out;
    /**
     * Frames written before {@link #release()}, or null after it. Until the engine accepts the request the stream
     * sends nothing, headers included, so that a refusal can still be answered with a plain HTTP error (429).
     */
    private ByteArrayOutputStream held = new ByteArrayOutputStream();
    /** The error the stream ended with, or null. */
    private ApiException failure;
    /** Whether chunks without usage say {@code "usage": null} ({@link #announceUsage()}). */
    private boolean usageAnnounced;

    SseStream(HttpServletResponse response) {
        this.response = response;
    }

    /** Sets the headers (sent on {@link #release()}); call once, before the first event. */
    void open(java.util.Map<String, String> headers) {
        response.setStatus(200);
        response.setContentType("text/event-stream; charset=utf-8");
        response.setHeader("Cache-Control", "no-cache");
        response.setHeader("X-Accel-Buffering", "no");
        headers.forEach(response::setHeader);
    }

    boolean isHeld() {
        return held != null;
    }

    /** Sends the headers and the held frames, and every later frame at once. */
    void release() {
        if (held == null) return;
        byte[] frames = held.toByteArray();
        held = null;
        flush(frames);
    }

    /**
     * With stream_options.include_usage: every chunk carries a {@code usage} field, null until the final usage chunk,
     * as OpenAI streams it (clients may read the field on every chunk).
     */
    void announceUsage() {
        usageAnnounced = true;
    }

    void send(Object event) {
        if (usageAnnounced) {
            ObjectNode tree = Json.MAPPER.valueToTree(event);
            if (tree.has("choices") && !tree.has("usage")) tree.putNull("usage");
            write("data: " + Json.write(tree) + "\n\n");
            return;
        }
        write("data: " + Json.write(event) + "\n\n");
    }

    void done() {
        write("data: [DONE]\n\n");
    }

    /** Ends the stream with an error event and {@code [DONE]}: how an error after the headers reaches the client. */
    void fail(ApiException e) {
        failure = e;
        send(e.toResponse());
        done();
    }

    /** The error the stream ended with ({@link #fail}), or null. */
    ApiException failure() {
        return failure;
    }

    private void write(String frame) {
        byte[] bytes = frame.getBytes(StandardCharsets.UTF_8);
        if (held != null) held.writeBytes(bytes);
        else flush(bytes);
    }

    private void flush(byte[] bytes) {
        try {
            if (out == null) out = response.getOutputStream();
            out.write(bytes);
            out.flush();
        } catch (IOException e) {
            throw new ClientGone(e);
        }
    }
}
