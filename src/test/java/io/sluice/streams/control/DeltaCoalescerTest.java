package io.sluice.streams.control;

import static io.sluice.streams.control.DeltaCoalescer.Kind.CONTENT;
import static io.sluice.streams.control.DeltaCoalescer.Kind.REASONING;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sluice.streams.control.DeltaCoalescer.Piece;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class DeltaCoalescerTest {

    private static final long MS = 1_000_000L;

    @Test
    void firstDeltaIsEmittedAtOnce() {
        DeltaCoalescer c = new DeltaCoalescer(100, 50 * MS);
        assertEquals(List.of(new Piece(CONTENT, "Hel")), c.offer(CONTENT, "Hel", 0));
        assertEquals(Long.MAX_VALUE, c.deadlineNanos(), "nothing held");
    }

    @Test
    void laterDeltasAreHeldUntilTheDelayPasses() {
        DeltaCoalescer c = new DeltaCoalescer(100, 50 * MS);
        c.offer(CONTENT, "a", 0);
        assertEquals(List.of(), c.offer(CONTENT, "b", 10 * MS));
        assertEquals(List.of(), c.offer(CONTENT, "c", 20 * MS));
        assertEquals(50 * MS, c.deadlineNanos(), "due 50 ms after the last emission");
        assertEquals(List.of(), c.poll(49 * MS));
        assertEquals(List.of(new Piece(CONTENT, "bc")), c.poll(50 * MS));
        assertEquals(Long.MAX_VALUE, c.deadlineNanos());
    }

    @Test
    void sparseDeltasAreEmittedAtOnceAndBurstsAtMostOncePerDelay() {
        DeltaCoalescer c = new DeltaCoalescer(100, 50 * MS);
        for (int i = 0; i < 5; i++) { // a chunk every 100 ms: nothing is held
            assertEquals(List.of(new Piece(CONTENT, "w" + i)), c.offer(CONTENT, "w" + i, i * 100 * MS));
        }
        assertEquals(List.of(), c.offer(CONTENT, "x", 410 * MS), "10 ms after an emission: held");
        assertEquals(450 * MS, c.deadlineNanos());
        assertEquals(List.of(new Piece(CONTENT, "x")), c.poll(450 * MS));
        assertEquals(List.of(), c.offer(CONTENT, "y", 460 * MS), "the limit counts from the timed emission too");
        assertEquals(500 * MS, c.deadlineNanos());
    }

    @Test
    void sizeThresholdEmitsAtOnce() {
        DeltaCoalescer c = new DeltaCoalescer(5, 50 * MS);
        c.offer(CONTENT, "x", 0);
        assertEquals(List.of(), c.offer(CONTENT, "abc", 1));
        assertEquals(List.of(new Piece(CONTENT, "abcde")), c.offer(CONTENT, "de", 2));
    }

    @Test
    void aDeltaArrivingAfterTheDelayEmitsWithoutATimer() {
        DeltaCoalescer c = new DeltaCoalescer(100, 50 * MS);
        c.offer(CONTENT, "x", 0);
        c.offer(CONTENT, "a", 1 * MS);
        assertEquals(List.of(new Piece(CONTENT, "ab")), c.offer(CONTENT, "b", 51 * MS));
    }

    @Test
    void aChangeOfKindEmitsWhatIsHeldFirstAndFirstOfEachKindIsImmediate() {
        DeltaCoalescer c = new DeltaCoalescer(100, 50 * MS);
        assertEquals(List.of(new Piece(REASONING, "think")), c.offer(REASONING, "think", 0));
        assertEquals(List.of(), c.offer(REASONING, "ing", 1));
        assertEquals(List.of(new Piece(REASONING, "ing"), new Piece(CONTENT, "Answer")),
                c.offer(CONTENT, "Answer", 2));
        assertEquals(List.of(), c.offer(CONTENT, " more", 3));
        assertEquals(List.of(new Piece(CONTENT, " more")), c.drain());
        assertEquals(List.of(), c.drain());
    }

    @Test
    void concatenationOfEmittedPiecesEqualsTheOfferedTextPerKind() {
        Random random = new Random(7);
        DeltaCoalescer c = new DeltaCoalescer(16, 50 * MS);
        StringBuilder offeredContent = new StringBuilder();
        StringBuilder offeredReasoning = new StringBuilder();
        List<Piece> emitted = new ArrayList<>();
        long now = 0;
        for (int i = 0; i < 2000; i++) {
            now += random.nextInt(20) * MS;
            DeltaCoalescer.Kind kind = i < 300 || random.nextInt(10) == 0 ? REASONING : CONTENT;
            String text = "t" + i + (random.nextBoolean() ? "🙂" : " ");
            (kind == CONTENT ? offeredContent : offeredReasoning).append(text);
            emitted.addAll(c.offer(kind, text, now));
            if (random.nextInt(3) == 0) {
                emitted.addAll(c.poll(now));
            }
        }
        emitted.addAll(c.drain());
        StringBuilder content = new StringBuilder();
        StringBuilder reasoning = new StringBuilder();
        for (Piece p : emitted) {
            assertTrue(!p.text().isEmpty(), "no empty piece");
            (p.kind() == CONTENT ? content : reasoning).append(p.text());
        }
        assertEquals(offeredContent.toString(), content.toString());
        assertEquals(offeredReasoning.toString(), reasoning.toString());
        assertTrue(emitted.size() < 2000, "deltas were coalesced: " + emitted.size());
    }
}
