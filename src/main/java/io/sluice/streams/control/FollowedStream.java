package io.sluice.streams.control;

import io.sluice.conversations.entity.MessageStatus;
import java.time.Instant;

/**
 * A stream that another node of the cluster generates, followed on this one (a mirror, issue 10): its log starts
 * empty and is filled by {@link #replicate} from the generating node's log in the cluster's store
 * ({@link Mirrors}); its {@link #stop}, {@link #abortOnUnload} and the owner's attention go to that node through its
 * {@link Remote}. It never starts a generation or saves anything.
 */
public final class FollowedStream extends Stream {

    private final Remote remote;

    FollowedStream(String id, StreamType type, String relatedId, String owner, String conversationId, String model,
                   Instant createdAt, EventLog<StreamEntry> log, Remote remote) {
        super(id, type, relatedId, owner, conversationId, model, createdAt, log);
        this.remote = remote;
    }

    /** Asks the generating node to stop it, unless its log has ended. */
    @Override
    public boolean stop(String reason, MessageStatus messageStatus) {
        if (log.terminated()) {
            return false;
        }
        remote.stop(reason, messageStatus);
        return true;
    }

    /** Asks the generating node for it. */
    @Override
    public void abortOnUnload(long graceMillis) {
        remote.abortOnUnload(graceMillis);
    }

    /** Attaches the follower here, and tells the generating node. */
    @Override
    public void follow(Follower follower) {
        super.follow(follower);
        remote.attended();
    }

    /** Counts here, and tells the generating node. */
    @Override
    public void attended() {
        super.attended();
        remote.attended();
    }

    /** Always {@code null}: the first token came on the generating node. */
    @Override
    public Long timeToFirstTokenMs() {
        return null;
    }

    /** Always {@code null}: the generating node keeps the raw record. */
    @Override
    public byte[] rawResponse() {
        return null;
    }

    /**
     * Appends, on a mirror, the next entry read from the generating node's log (in id order, without gaps), and
     * takes its state from it: streaming after the first delta, the end, the saved message and the content length
     * (UTF-16 code units) from the entries.
     *
     * @throws IllegalStateException after the {@code Ended} entry
     */
    public void replicate(StreamEntry entry) {
        boolean last = entry instanceof StreamEntry.Ended;
        synchronized (this) {
            emittedContent = entry.contentEnd();
            if (entry instanceof StreamEntry.Delta && status == StreamStatus.CONNECTING) {
                status = StreamStatus.STREAMING;
            } else if (entry instanceof StreamEntry.Ended e) {
                end = e.end();
                messageId = e.messageId();
                status = e.end().status();
                endedAt = Instant.now();
            }
            if (last) {
                log.terminate(entry);
            } else {
                log.append(entry);
            }
        }
        if (last) {
            log.compact(CompactStreamLog::of);
        }
    }
}
