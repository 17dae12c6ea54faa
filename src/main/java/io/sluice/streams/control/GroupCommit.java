package io.sluice.streams.control;

import io.sluice.platform.control.ManagedExecutors;
import jakarta.annotation.PostConstruct;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Group commit of the writes that happen when streams start and end (answers, titles, agent messages, stream and run
 * records): writes queue up, and one committer (a {@link Pump} on the database pool) commits everything queued in one
 * transaction, then the next batch. Under load a batch holds many writes, so a node pays one commit for them instead
 * of one each; alone, a write commits at once, with no added delay.
 *
 * <p>Failures stay isolated: when a batch fails, each of its writes is retried alone, in its own transaction, and
 * only the ones that fail again complete exceptionally. A write therefore must be safe to run twice when its first
 * run was rolled back: it only touches the database (side effects go in observers of
 * {@code @Observes(during = AFTER_SUCCESS)}).
 *
 * <p>Order: writes commit in the order they were submitted, so a record's start always commits before its end.
 *
 * <p><b>Bound</b> (issue 21, bounded queues). The queue is bounded where work is admitted, not by refusing writes:
 * {@link StreamHub#reserve} answers 503 while {@link #pending()} writes, with the results that wait to be saved again,
 * reach {@code SLUICE_SAVE_QUEUE_MAX}. A write of what was admitted (a stream's record, its result at its end, a
 * run's end) is always queued, never dropped: each running stream or run adds at most two, so past the bound the queue
 * grows by at most what {@code SLUICE_MAX_RUNNING_STREAMS} lets run, and an answer is never lost for want of room.
 */
@ApplicationScoped
public class GroupCommit {

    private static final Logger LOG = Logger.getLogger(GroupCommit.class.getName());
    /** Most writes in one transaction. */
    static final int MAX_BATCH = 256;

    private record Write<T>(Supplier<T> work, CompletableFuture<T> done) {
        void complete(Object result) {
            @SuppressWarnings("unchecked") T value = (T) result;
            done.complete(value);
        }
    }

    @Inject
    Transactions transactions;
    @Inject
    ManagedExecutors executors;

    private final ConcurrentLinkedQueue<Write<?>> queue = new ConcurrentLinkedQueue<>();
    /** Writes queued or in the batch being committed (the queue's own size is not constant-time). */
    private final AtomicInteger pending = new AtomicInteger();
    private volatile boolean committing;
    private Pump committer;

    @PostConstruct
    void start() {
        committer = new Pump(executors.database()) {
            @Override
            protected void pump() {
                commitQueued();
            }
        };
    }

    /**
     * Queues {@code work} for the next batch; never blocks, and never refuses (see "Bound" in the class comment).
     *
     * @param work database work (calls to the stores, which join the batch's transaction); it may run twice, see
     *             the class comment
     * @return completes with what {@code work} returned once its transaction committed, or exceptionally when it
     *         failed alone too
     */
    public <T> CompletionStage<T> submit(Supplier<T> work) {
        Write<T> write = new Write<>(work, new CompletableFuture<>());
        pending.incrementAndGet();
        queue.add(write);
        committer.wake();
        return write.done();
    }

    /** Writes submitted and not yet committed or failed. */
    public int pending() {
        return pending.get();
    }

    /**
     * Waits until every write queued so far has committed or failed (undeploy), at most {@code timeoutMillis}.
     *
     * @return whether the queue drained in time
     */
    public boolean awaitIdle(long timeoutMillis) {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMillis);
        while (!queue.isEmpty() || committing) {
            if (System.nanoTime() - deadline > 0) {
                return false;
            }
            try {
                Thread.sleep(5);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return false;
            }
        }
        return true;
    }

    private void commitQueued() {
        List<Write<?>> batch = new ArrayList<>();
        while (true) {
            committing = true;
            try {
                Write<?> next;
                while (batch.size() < MAX_BATCH && (next = queue.poll()) != null) {
                    batch.add(next);
                }
                if (batch.isEmpty()) {
                    return;
                }
                try {
                    commit(batch);
                } finally {
                    pending.addAndGet(-batch.size());
                }
                batch.clear();
            } finally {
                committing = false;
            }
        }
    }

    private void commit(List<Write<?>> batch) {
        Object[] results = new Object[batch.size()];
        try {
            transactions.inNew(() -> {
                for (int i = 0; i < batch.size(); i++) {
                    results[i] = batch.get(i).work().get();
                }
                return null;
            });
        } catch (RuntimeException batchFailed) {
            if (batch.size() == 1) {
                batch.get(0).done().completeExceptionally(batchFailed);
                return;
            }
            LOG.log(Level.FINE, "a batch of " + batch.size() + " writes failed; retrying each alone", batchFailed);
            for (Write<?> write : batch) {
                try {
                    write.complete(transactions.inNew(write.work()));
                } catch (RuntimeException failed) {
                    write.done().completeExceptionally(failed);
                }
            }
            return;
        }
        for (int i = 0; i < batch.size(); i++) {
            batch.get(i).complete(results[i]);
        }
    }
}
