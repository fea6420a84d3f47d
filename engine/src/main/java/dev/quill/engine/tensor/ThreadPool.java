package dev.quill.engine.tensor;

import java.util.Objects;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
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
 *
 * <p>The first worker also runs small {@linkplain #offload offloaded} tasks when it has no loop to work on.
 */
public final class ThreadPool implements AutoCloseable {

    private static final System.Logger LOG = System.getLogger(ThreadPool.class.getName());

    /** How long an idle worker spins before parking. */
    private static final long SPIN_NANOS = 200_000;

    private final int threads;
    private final Worker[] workers;
    private final Object callerLock = new Object();
    private volatile Job job;
    /** The thread currently dispatching a job (so a nested call from one of its tasks runs inline). */
    private volatile Thread dispatcher;
    private volatile boolean closed;
    /** Offloaded tasks, run in order by the first worker. */
    private final Queue<Runnable> offloaded = new ConcurrentLinkedQueue<>();

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

    /**
     * Runs {@code task} on the first worker as soon as it has no {@link #parallelFor} work, after the tasks offloaded
     * before it and never at the same time as another offloaded task; inline when the pool has no workers or is
     * closed. Meant for short tasks of the thread that drives the loops (the engine loop hands it its listener
     * calls): between two forward passes the worker is idle while that thread is not, and what a task wakes (a
     * client's thread, say) tends to be run on the waking thread's core by the OS, so this keeps it off the busy one.
     * A task that throws is logged and the next one still runs.
     */
    public void offload(Runnable task) {
        Objects.requireNonNull(task, "task");
        if (workers.length == 0 || closed) {
            runQuietly(task);
            return;
        }
        offloaded.add(task);
        Worker first = workers[0];
        if (first.parked) LockSupport.unpark(first);
        if (closed) runOffloaded(); // raced with close(): nothing offloaded may be left behind
    }

    /** Stops the workers after they have run every offloaded task; further {@link #parallelFor} calls fail. */
    @Override
    public void close() {
        closed = true;
        for (Worker w : workers) LockSupport.unpark(w);
        for (Worker w : workers) {
            try {
                w.join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                runOffloaded();
                return;
            }
        }
        runOffloaded();
    }

    /**
     * Runs the offloaded tasks waiting now, in order; returns whether there were any. Normally only the first worker
     * calls this; the lock keeps tasks one at a time when close() or a racing offload() drains too.
     */
    private boolean runOffloaded() {
        synchronized (offloaded) {
            boolean ran = false;
            for (Runnable task; (task = offloaded.poll()) != null; ran = true) runQuietly(task);
            return ran;
        }
    }

    private static void runQuietly(Runnable task) {
        try {
            task.run();
        } catch (RuntimeException | Error e) {
            LOG.log(System.Logger.Level.WARNING, "an offloaded task failed", e);
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
            boolean first = this == workers[0];
            Job seen = null;
            while (!closed) {
                Job j = job;
                if (j != seen) {
                    seen = j;
                    j.work();
                    continue;
                }
                if (first && runOffloaded()) continue;
                long deadline = System.nanoTime() + SPIN_NANOS;
                while (idle(seen, first) && System.nanoTime() < deadline) Thread.onSpinWait();
                if (idle(seen, first)) {
                    parked = true;
                    if (idle(seen, first)) LockSupport.park(this);
                    parked = false;
                }
            }
            if (first) runOffloaded();
        }

        private boolean idle(Job seen, boolean first) {
            return job == seen && !closed && (!first || offloaded.isEmpty());
        }
    }
}
