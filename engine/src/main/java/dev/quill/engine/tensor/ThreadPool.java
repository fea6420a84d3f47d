package dev.quill.engine.tensor;

import java.util.Objects;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;
import java.util.function.IntConsumer;

/**
 * A fixed pool for data-parallel loops with low dispatch overhead: a decode step issues about a hundred matmuls, so
 * idle workers spin briefly on the next job before parking, and the calling thread works too. {@code threads()}
 * counts the caller: a pool of N has N − 1 background workers.
 *
 * <p>Calls from several threads are serialised; a {@link #parallelFor} issued from inside a task runs inline.
 */
public final class ThreadPool implements AutoCloseable {

    /** How long an idle worker spins before parking. */
    private static final long SPIN_NANOS = 200_000;

    private final int threads;
    private final Worker[] workers;
    private final Object callerLock = new Object();
    private volatile Job job;
    /** The thread currently dispatching a job (so a nested call from one of its tasks runs inline). */
    private volatile Thread dispatcher;
    private volatile boolean closed;

    /** A pool using every available processor. */
    public ThreadPool() {
        this(Runtime.getRuntime().availableProcessors());
    }

    public ThreadPool(int threads) {
        if (threads < 1) throw new IllegalArgumentException("thread pool size " + threads + " must be at least 1");
        this.threads = threads;
        this.workers = new Worker[threads - 1];
        for (int i = 0; i < workers.length; i++) {
            workers[i] = new Worker("quill-worker-" + (i + 1));
            workers[i].start();
        }
    }

    public int threads() {
        return threads;
    }

    /**
     * Runs {@code body.accept(i)} for every {@code i} in {@code [0, tasks)}, spread over the pool, and returns when all
     * are done. The first exception thrown by a task is rethrown here (remaining tasks still run).
     */
    public void parallelFor(int tasks, IntConsumer body) {
        Objects.requireNonNull(body, "body");
        if (tasks < 0) throw new IllegalArgumentException("task count " + tasks + " is negative");
        if (closed) throw new IllegalStateException("thread pool is closed");
        if (tasks == 0) return;
        Thread self = Thread.currentThread();
        if (tasks == 1 || workers.length == 0 || self instanceof Worker || self == dispatcher) {
            for (int i = 0; i < tasks; i++) body.accept(i);
            return;
        }
        synchronized (callerLock) {
            Job j = new Job(body, tasks);
            dispatcher = self;
            try {
                job = j;
                for (Worker w : workers) {
                    if (w.parked) LockSupport.unpark(w);
                }
                j.work();
                for (int spins = 0; j.pending.get() != 0; spins++) {
                    if (spins < 1 << 16) Thread.onSpinWait();
                    else Thread.yield();
                }
            } finally {
                dispatcher = null;
            }
            Throwable error = j.error.get();
            if (error instanceof RuntimeException e) throw e;
            if (error instanceof Error e) throw e;
            if (error != null) throw new IllegalStateException(error);
        }
    }

    /** Stops the workers; further {@link #parallelFor} calls fail. */
    @Override
    public void close() {
        closed = true;
        for (Worker w : workers) LockSupport.unpark(w);
        for (Worker w : workers) {
            try {
                w.join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    private static final class Job {
        final IntConsumer body;
        final int tasks;
        final AtomicInteger next = new AtomicInteger();
        final AtomicInteger pending;
        final AtomicReference<Throwable> error = new AtomicReference<>();

        Job(IntConsumer body, int tasks) {
            this.body = body;
            this.tasks = tasks;
            this.pending = new AtomicInteger(tasks);
        }

        void work() {
            for (int i; (i = next.getAndIncrement()) < tasks; ) {
                try {
                    body.accept(i);
                } catch (Throwable t) {
                    error.compareAndSet(null, t);
                } finally {
                    pending.decrementAndGet();
                }
            }
        }
    }

    private final class Worker extends Thread {
        volatile boolean parked;

        Worker(String name) {
            super(name);
            setDaemon(true);
        }

        @Override
        public void run() {
            Job seen = null;
            while (!closed) {
                Job j = job;
                if (j != seen) {
                    seen = j;
                    j.work();
                    continue;
                }
                long deadline = System.nanoTime() + SPIN_NANOS;
                while (job == seen && !closed && System.nanoTime() < deadline) Thread.onSpinWait();
                if (job == seen && !closed) {
                    parked = true;
                    if (job == seen && !closed) LockSupport.park(this);
                    parked = false;
                }
            }
        }
    }
}
