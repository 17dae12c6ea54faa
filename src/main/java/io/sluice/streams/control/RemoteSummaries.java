package io.sluice.streams.control;

import static io.sluice.streams.control.StreamCluster.eventId;
import static io.sluice.streams.control.StreamCluster.logKey;
import static io.sluice.streams.control.StreamCluster.runningKey;

import io.lettuce.core.Limit;
import io.lettuce.core.Range;
import io.lettuce.core.StreamMessage;
import io.sluice.platform.control.ProblemException;
import io.sluice.platform.control.Redis;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;

/**
 * The owner's running streams that other nodes generate (issue 10), summarized for {@code GET /api/streams}: a stream
 * followed here already from its mirror, any other from its meta and the last entry of its log in Redis (two reads,
 * whatever the log's length; no mirror is made).
 */
@ApplicationScoped
public class RemoteSummaries {

    @Inject
    Redis redis;
    @Inject
    Mirrors mirrors;

    /**
     * The summaries. A stream's status is {@code connecting} while its last entry is the first, {@code streaming}
     * after a delta, as a mirror's would be; a stream whose log has ended, is empty or expired is left out.
     *
     * @param local finds a stream generated on this node by id (left out here)
     * @throws ProblemException 503 when Redis does not answer within {@link Redis#COMMAND_TIMEOUT_MILLIS}
     */
    List<StreamSummary> running(String owner, Function<String, Optional<Stream>> local) {
        List<String> ids = mirrors.await(() -> redis.commands().zrange(runningKey(owner), 0, -1),
                "the running streams");
        List<StreamSummary> out = new ArrayList<>();
        for (String id : ids) {
            if (local.apply(id).isPresent()) {
                continue;
            }
            if (mirrors.followed(id) != null) {
                Stream stream = mirrors.followedStream(id);
                if (stream != null && stream.owner().equals(owner) && !stream.terminated()) {
                    out.add(StreamSummary.of(stream));
                }
            } else {
                summary(owner, id).ifPresent(out::add);
            }
        }
        return out;
    }

    /**
     * The status of a running stream whose log ends with {@code last}, as a mirror that read the whole log would have
     * it: {@code connecting} after the first entry, {@code streaming} after a delta; empty after the {@code Ended}
     * entry.
     */
    static Optional<StreamStatus> runningStatus(StreamEntry last) {
        if (last instanceof StreamEntry.Ended) {
            return Optional.empty();
        }
        return Optional.of(last instanceof StreamEntry.Delta ? StreamStatus.STREAMING : StreamStatus.CONNECTING);
    }

    /**
     * The summary of the owner's stream {@code id} that another node generates, from its meta and its log's last
     * entry in Redis.
     *
     * @return empty for an unknown id, another owner's stream, one this node generates, or a log that is empty or
     *         has ended
     * @throws ProblemException 503 as {@link #running}
     */
    private Optional<StreamSummary> summary(String owner, String id) {
        Optional<Map<String, String>> found = mirrors.meta(id);
        if (found.isEmpty()) {
            return Optional.empty();
        }
        Map<String, String> meta = found.get();
        Optional<StreamType> type = StreamType.fromWire(meta.get("type"));
        if (!owner.equals(meta.get("owner")) || redis.nodeId().equals(meta.get("node")) || type.isEmpty()) {
            return Optional.empty();
        }
        List<StreamMessage<String, String>> last = mirrors.await(() -> redis.commands().xrevrange(logKey(id),
                Range.create("-", "+"), Limit.from(1)), "log " + id);
        if (last.isEmpty()) {
            return Optional.empty();
        }
        StreamEntry entry;
        try {
            entry = EntryCodec.STREAMS.decode(last.get(0).getBody().get("e"));
        } catch (RuntimeException e) {
            return Optional.empty(); // a mirror would end as lost: not running
        }
        Optional<StreamStatus> status = runningStatus(entry);
        if (status.isEmpty()) {
            return Optional.empty();
        }
        return Optional.of(new StreamSummary(id, type.get(), meta.get("relatedId"), meta.get("conversationId"),
                status.get(), eventId(last.get(0).getId()), null, null, meta.get("model"),
                Instant.ofEpochMilli(Long.parseLong(meta.getOrDefault("createdAt", "0"))), null, 0));
    }
}
