package dev.quill.engine.tensor;

import org.junit.jupiter.api.Test;

import java.util.concurrent.BrokenBarrierException;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicIntegerArray;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ThreadPoolTest {

    @Test
    void runsEveryTaskExactlyOnceAcrossManyDispatches() {
        try (ThreadPool pool = new ThreadPool(3)) {
            assertThat(pool.threads()).isEqualTo(3);
            for (int call = 0; call < 2000; call++) {
                int tasks = 1 + call % 17;
                AtomicIntegerArray runs = new AtomicIntegerArray(tasks);
                pool.parallelFor(tasks, runs::incrementAndGet);
                for (int i = 0; i < tasks; i++) assertThat(runs.get(i)).as("call %d task %d", call, i).isEqualTo(1);
            }
        }
    }

    @Test
    void tasksRunConcurrentlyOnDifferentThreads() {
        try (ThreadPool pool = new ThreadPool(2)) {
            CyclicBarrier bothRunning = new CyclicBarrier(2);
            // Would time out if the two tasks ran one after the other.
            pool.parallelFor(2, i -> {
                try {
                    bothRunning.await(10, TimeUnit.SECONDS);
                } catch (InterruptedException | BrokenBarrierException | TimeoutException e) {
                    throw new IllegalStateException(e);
                }
            });
        }
    }

    @Test
    void rethrowsTheTaskExceptionAndStaysUsable() {
        try (ThreadPool pool = new ThreadPool(2)) {
            AtomicInteger completed = new AtomicInteger();
            assertThatThrownBy(() -> pool.parallelFor(8, i -> {
                if (i == 3) throw new IllegalArgumentException("task 3 failed");
                completed.incrementAndGet();
            })).isInstanceOf(IllegalArgumentException.class).hasMessage("task 3 failed");
            assertThat(completed.get()).isEqualTo(7);
            AtomicInteger after = new AtomicInteger();
            pool.parallelFor(5, i -> after.incrementAndGet());
            assertThat(after.get()).isEqualTo(5);
        }
    }

    @Test
    void nestedLoopsRunInlineOnTheCallingThread() {
        try (ThreadPool pool = new ThreadPool(2)) {
            AtomicInteger inner = new AtomicInteger(), foreign = new AtomicInteger();
            pool.parallelFor(4, i -> {
                Thread outer = Thread.currentThread();
                pool.parallelFor(3, j -> {
                    inner.incrementAndGet();
                    if (Thread.currentThread() != outer) foreign.incrementAndGet();
                });
            });
            assertThat(inner.get()).isEqualTo(12);
            assertThat(foreign.get()).isZero();
        }
    }

    @Test
    void concurrentCallersAreSerialised() throws InterruptedException {
        try (ThreadPool pool = new ThreadPool(2)) {
            AtomicInteger total = new AtomicInteger();
            Thread other = Thread.ofPlatform().start(() -> {
                for (int k = 0; k < 300; k++) pool.parallelFor(4, i -> total.incrementAndGet());
            });
            for (int k = 0; k < 300; k++) pool.parallelFor(4, i -> total.incrementAndGet());
            other.join();
            assertThat(total.get()).isEqualTo(2 * 300 * 4);
        }
    }

    @Test
    void rejectsBadArgumentsAndUseAfterClose() {
        assertThatThrownBy(() -> new ThreadPool(0)).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("0");
        ThreadPool pool = new ThreadPool(2);
        assertThatThrownBy(() -> pool.parallelFor(-1, i -> { })).isInstanceOf(IllegalArgumentException.class);
        pool.close();
        assertThatThrownBy(() -> pool.parallelFor(2, i -> { })).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("closed");
    }
}
