package dev.quill.server.serving;

import dev.quill.server.protocol.Json;
import jakarta.servlet.ServletOutputStream;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.nio.charset.StandardCharsets;

/**
 * Server-sent events written straight to the response: {@code data: {json}\n\n} per event, flushed at once, and
 * {@code data: [DONE]} at the end. (Written by hand rather than with Javalin's SSE helper, which only streams when
 * the client sends {@code Accept: text/event-stream} — the OpenAI SDKs do not.) A failed write means the client
 * went away: it surfaces as {@link ClientGone}.
 */
final class SseStream {

    /** The client closed the connection; the request's generation must stop. */
    static final class ClientGone extends RuntimeException {
        ClientGone(IOException cause) {
            super("client disconnected", cause, false, false);
        }
    }

    private final HttpServletResponse response;
    private ServletOutputStream out;

    SseStream(HttpServletResponse response) {
        this.response = response;
    }

    /** Sends the headers; call once, before the first event. */
    void open(java.util.Map<String, String> headers) {
        response.setStatus(200);
        response.setContentType("text/event-stream; charset=utf-8");
        response.setHeader("Cache-Control", "no-cache");
        response.setHeader("X-Accel-Buffering", "no");
        headers.forEach(response::setHeader);
        try {
            out = response.getOutputStream();
            out.flush();
        } catch (IOException e) {
            throw new ClientGone(e);
        }
    }

    void send(Object event) {
        write("data: " + Json.write(event) + "\n\n");
    }

    void done() {
        write("data: [DONE]\n\n");
    }

    private void write(String frame) {
        try {
            out.write(frame.getBytes(StandardCharsets.UTF_8));
            out.flush();
        } catch (IOException e) {
            throw new ClientGone(e);
        }
    }
}
