package dev.quill.server.serving;

import jakarta.servlet.http.HttpServletRequest;
import java.io.IOException;
import java.nio.ByteBuffer;
import org.eclipse.jetty.ee10.servlet.ServletContextRequest;
import org.eclipse.jetty.http.HttpVersion;
import org.eclipse.jetty.io.AbstractEndPoint;
import org.eclipse.jetty.server.ConnectionMetaData;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.util.BufferUtil;
import org.eclipse.jetty.util.Callback;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Notices a client that closes its connection while its request is being served, even when nothing is being written
 * (a non-streaming response is written only at the end, a held stream not at all).
 *
 * <p>Jetty reads an HTTP/1 connection only while the application reads the body and again once the response is
 * complete, so a peer that closes meanwhile goes unseen (no failure listener fires). The watch therefore asks the
 * connection's selector itself to report the socket readable, once the body has been read: a read that then returns
 * end-of-stream means the client is gone. Bytes instead would be the start of a pipelined next request (which HTTP
 * clients do not send in practice): Jetty's parser cannot be given them back, so the connection is closed once the
 * response is complete, and the client retries that request on a new one.
 *
 * <p>The read interest is withdrawn by {@link #close()}, which must run before the response completes: Jetty aborts a
 * connection that still has a read pending then. HTTP/2 multiplexes requests on one connection, so there is nothing
 * to watch per request; those requests get {@link #NONE}.
 */
final class DisconnectWatch implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(DisconnectWatch.class);
    private static final IOException WITHDRAWN = new IOException("disconnect watch withdrawn");

    /** Watches nothing. */
    static final DisconnectWatch NONE = new DisconnectWatch(null, null, () -> { });

    private final Request request;
    private final AbstractEndPoint endPoint;
    private final Runnable onGone;
    private final Callback readable = new Callback() {
        @Override
        public void succeeded() {
            onReadable();
        }

        @Override
        public void failed(Throwable cause) {
            onFailed(cause);
        }

        @Override
        public InvocationType getInvocationType() {
            return InvocationType.NON_BLOCKING; // a non-blocking read and a cancel: fine on the selector thread
        }
    };
    // Guarded by this: the selector thread reports, the request thread closes.
    private boolean interested;
    private boolean closed;
    private boolean pipelined;

    private DisconnectWatch(Request request, AbstractEndPoint endPoint, Runnable onGone) {
        this.request = request;
        this.endPoint = endPoint;
        this.onGone = onGone;
    }

    /**
     * Starts watching the request's connection; {@code onGone} runs (on a Jetty thread, so it must not block) when
     * the client goes away. Call it once the request body has been read.
     */
    static DisconnectWatch start(HttpServletRequest servletRequest, Runnable onGone) {
        Request request = ServletContextRequest.getServletContextRequest(servletRequest);
        ConnectionMetaData connection = request.getConnectionMetaData();
        HttpVersion version = connection.getHttpVersion();
        if (version != HttpVersion.HTTP_1_1 && version != HttpVersion.HTTP_1_0) return NONE;
        if (!(connection.getConnection().getEndPoint() instanceof AbstractEndPoint endPoint)) return NONE;
        DisconnectWatch watch = new DisconnectWatch(request, endPoint, onGone);
        synchronized (watch) {
            watch.awaitReadable();
        }
        return watch;
    }

    private void awaitReadable() {
        interested = endPoint.tryFillInterested(readable);
        if (!interested) LOG.debug("{} is being read already; not watching it", endPoint);
    }

    private synchronized void onReadable() {
        interested = false;
        if (closed) return;
        ByteBuffer probe = BufferUtil.allocate(1);
        int read;
        try {
            read = endPoint.fill(probe);
        } catch (IOException e) {
            read = -1; // a connection that cannot be read from cannot be written to either
        }
        if (read < 0) {
            onGone.run();
        } else if (read > 0) {
            pipelined = true;
        } else {
            awaitReadable();
        }
    }

    private synchronized void onFailed(Throwable cause) {
        interested = false;
        if (closed) return; // withdrawn by close()
        // The endpoint was closed (by the peer's reset, or by Jetty): the response can no longer be delivered.
        LOG.debug("connection {} failed while watched", endPoint, cause);
        onGone.run();
    }

    /** Stops watching; call on the request's thread before its response completes. */
    @Override
    public synchronized void close() {
        if (endPoint == null || closed) return;
        closed = true;
        // Nothing else reads the connection while its request is handled, so a pending interest is ours.
        if (interested) endPoint.getFillInterest().onFail(WITHDRAWN);
        if (pipelined) Request.addCompletionListener(request, failure -> endPoint.close());
    }
}
