package io.sluice.chat.control;

import io.sluice.conversations.control.ConversationStore;
import io.sluice.platform.control.ProblemException;
import io.sluice.streams.control.Stream;
import io.sluice.streams.control.StreamHub;
import io.sluice.streams.control.StreamRecords;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.util.ArrayList;
import java.util.List;

/**
 * Finds the streams that a resume or an abort names ({@link StreamTarget}): by {@code streamId} as API.md section 3
 * does, or by {@code conversationId}, the seeds' form of section 13. A conversation's chat streams are found through
 * what every node of a cluster shares, the stream records in the database, and then the stream itself through the
 * hub ({@link StreamHub#require}: this node's memory, or another node's stream read from Redis). An unknown
 * conversation and someone else's are answered alike, 404 {@code conversation not found}.
 */
@ApplicationScoped
public class ConversationStreams {

    /** Most running chat streams of one conversation that one abort reaches (a user runs at most 16 by default). */
    static final int MAX_ABORTED = 64;

    @Inject
    StreamRecords records;
    @Inject
    StreamHub hub;
    @Inject
    ConversationStore conversations;

    /**
     * The stream a resume follows: the named one; for a conversation, its latest running chat stream, else its latest
     * chat stream.
     *
     * @throws ProblemException 404 for an unknown or foreign stream or conversation, and for a conversation that has
     *                          no chat stream; 410 when that stream ended and left memory (its final state stays at
     *                          {@code GET /api/streams/{id}}, and the saved answer at the conversation's messages);
     *                          503 when the cluster's Redis does not answer
     */
    public Stream toResume(String owner, StreamTarget target) {
        if (!target.byConversation()) {
            return hub.require(owner, target.streamId());
        }
        List<String> ids = records.chatStreams(owner, target.conversationId(), true, 1);
        if (ids.isEmpty()) {
            ids = records.chatStreams(owner, target.conversationId(), false, 1);
        }
        if (ids.isEmpty()) {
            conversations.get(owner, target.conversationId()); // 404 conversation not found: unknown or foreign
            throw new ProblemException(404, "not-found", "the conversation has no chat stream");
        }
        return hub.require(owner, ids.get(0));
    }

    /**
     * The streams an abort stops: the named one; for a conversation, each of its running chat streams (none when
     * nothing runs: a beacon may come after the end).
     *
     * @throws ProblemException 404 for an unknown or foreign stream or conversation; 410 for a named stream that ended
     *                          and left memory; 503 when the cluster's Redis does not answer
     */
    public List<Stream> toAbort(String owner, StreamTarget target) {
        if (!target.byConversation()) {
            return List.of(hub.require(owner, target.streamId()));
        }
        List<String> ids = records.chatStreams(owner, target.conversationId(), true, MAX_ABORTED);
        if (ids.isEmpty()) {
            conversations.get(owner, target.conversationId()); // 404 conversation not found: unknown or foreign
            return List.of();
        }
        List<Stream> running = new ArrayList<>(ids.size());
        for (String id : ids) {
            try {
                running.add(hub.require(owner, id));
            } catch (ProblemException e) {
                if (e.status() != 410 && e.status() != 404) {
                    throw e; // 503: the cluster's Redis does not answer
                }
                // it ended, and left memory (or was deleted), since its record was read: nothing to abort
            }
        }
        return running;
    }
}
