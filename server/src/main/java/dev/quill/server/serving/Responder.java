package dev.quill.server.serving;

import java.util.Map;

/** How a service answers: set headers for a JSON body it returns, or open an event stream and write to it. */
interface Responder {

    void headers(Map<String, String> headers);

    SseStream openStream(Map<String, String> headers);
}
