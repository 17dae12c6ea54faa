package io.sluice.streams.control;

/**
 * Something that reads a stream from its log: an SSE connection or a waiting poll. Followers are told that
 * there is news and read it themselves, at their own pace, from their own position (API.md section 3).
 */
public interface Follower {

    /** The stream has new events (or ended). Must return at once; never blocks the generation. */
    void wake();
}
