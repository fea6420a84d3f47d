package dev.quill.engine.tensor;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.BrokenBarrierException;
import java.util.concurrent.CountDownLatch;
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

    // ---- offloaded tasks -------------------------------------------------------------------------------------

    @Test
    void offloadedTasksRunInOrderOnAWorkerWhileTheCallerKeepsDispatchingLoops() throws InterruptedException {
        try (ThreadPool pool = new ThreadPool(2)) {
            List<Integer> order = Collections.synchronizedList(new ArrayList<>());
            List<Thread> runners = Collections.synchronizedList(new ArrayList<>());
            CountDownLatch all = new CountDownLatch(1000);
            AtomicInteger loopTasks = new AtomicInteger();
            for (int i = 0; i < 1000; i++) {
                int n = i;
                pool.offload(() -> {
                    order.add(n);
                    runners.add(Thread.currentThread());
                    all.countDown();
                });
                if (i % 10 == 0) pool.parallelFor(4, t -> loopTasks.incrementAndGet());
            }
            assertThat(all.await(10, TimeUnit.SECONDS)).isTrue();
            for (int i = 0; i < 1000; i++) assertThat(order.get(i)).isEqualTo(i);
            assertThat(runners).doesNotContain(Thread.currentThread());
            assertThat(loopTasks.get()).isEqualTo(400);
        }
    }

    @Test
    void withoutWorkersOrAfterCloseAnOffloadedTaskRunsBeforeOffloadReturns() {
        try (ThreadPool single = new ThreadPool(1)) {
            List<Thread> ran = new ArrayList<>();
            single.offload(() -> ran.add(Thread.currentThread()));
            assertThat(ran).containsExactly(Thread.currentThread());
        }
        ThreadPool pool = new ThreadPool(2);
        pool.close();
        List<Thread> ran = new ArrayList<>();
        pool.offload(() -> ran.add(Thread.currentThread()));
        assertThat(ran).containsExactly(Thread.currentThread());
    }

    @Test
    void closeReturnsOnlyAfterEveryOffloadedTaskRan() {
        AtomicInteger ran = new AtomicInteger();
        ThreadPool pool = new ThreadPool(2);
        for (int i = 0; i < 50; i++) {
            pool.offload(() -> {
                try {
                    Thread.sleep(1);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                ran.incrementAndGet();
            });
        }
        pool.close();
        assertThat(ran.get()).isEqualTo(50);
    }

    @Test
    void aFailingOffloadedTaskDoesNotStopTheOnesAfterIt() throws InterruptedException {
        try (ThreadPool pool = new ThreadPool(2)) {
            CountDownLatch after = new CountDownLatch(1);
            pool.offload(() -> {
                throw new IllegalStateException("offloaded task failed on purpose");
            });
            pool.offload(after::countDown);
            assertThat(after.await(10, TimeUnit.SECONDS)).isTrue();
        }
    }
}
