package dev.quill.server.serving;

/**
 * The client closed its connection before its response was complete: the request's generation stops and nothing
 * more is written. Not an error of the server, so it carries no stack trace and is never logged as one.
 */
final class ClientGone extends RuntimeException {

    /** HTTP status under which such a request is counted in the metrics (nginx's "client closed request"). */
    static final int STATUS = 499;

    ClientGone() {
        super("client disconnected", null, false, false);
    }

    ClientGone(Throwable cause) {
        super("client disconnected", cause, false, false);
    }
}
