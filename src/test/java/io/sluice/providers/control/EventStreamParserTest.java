package io.sluice.providers.control;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class EventStreamParserTest {

    /** One dispatched event (or a retry, as type "retry"). */
    record Event(String id, String type, String data) {
        static Event of(String data) {
            return new Event("", "message", data);
        }
    }

    static final class Recorder implements EventStreamParser.Listener {
        final List<Event> events = new ArrayList<>();
        final List<Long> retries = new ArrayList<>();

        @Override
        public void onEvent(String lastEventId, String type, String data) {
            events.add(new Event(lastEventId, type, data));
        }

        @Override
        public void onRetry(long millis) {
            retries.add(millis);
        }
    }

    private final Recorder recorder = new Recorder();
    private final EventStreamParser parser = new EventStreamParser(recorder, 1024, 4096);

    private void feed(String text) {
        feed(text.getBytes(StandardCharsets.UTF_8));
    }

    private void feed(byte[] bytes) {
        ByteBuffer buffer = ByteBuffer.wrap(bytes);
        parser.feed(buffer);
        assertEquals(0, buffer.remaining(), "feed consumes every byte");
    }

    private List<Event> parseWhole(String text) {
        feed(text);
        parser.end();
        return recorder.events;
    }

    @Test
    void lineFeedLineEnds() {
        assertEquals(List.of(Event.of("a"), Event.of("b")), parseWhole("data: a\n\ndata: b\n\n"));
    }

    @Test
    void carriageReturnLineEnds() {
        assertEquals(List.of(Event.of("a"), Event.of("b")), parseWhole("data: a\r\rdata: b\r\r"));
    }

    @Test
    void crlfLineEnds() {
        assertEquals(List.of(Event.of("a"), Event.of("b")), parseWhole("data: a\r\n\r\ndata: b\r\n\r\n"));
    }

    @Test
    void mixedLineEnds() {
        assertEquals(List.of(Event.of("a\nb\nc"), Event.of("d")),
                parseWhole("data: a\rdata: b\r\ndata: c\n\r\ndata: d\r\n\n"));
    }

    @Test
    void crlfSplitAcrossFeedsIsOneLineEnd() {
        // were the LF a second line end, "data: a" would be dispatched on its own
        feed("data: a\r");
        feed("\ndata: b\r");
        feed("\n\r");
        assertEquals(List.of(Event.of("a\nb")), recorder.events, "dispatched at the CR, before its LF");
        feed("\n");
        feed("data: c\r");
        feed("\n");
        parser.feed(ByteBuffer.allocate(0)); // an empty feed between CR and LF keeps the pending CR
        feed("\n");
        assertEquals(List.of(Event.of("a\nb"), Event.of("c")), recorder.events);
    }

    @Test
    void eventIsDispatchedAsSoonAsItsEmptyLineEnds() {
        feed("data: x\n");
        assertEquals(List.of(), recorder.events);
        feed("\n");
        assertEquals(List.of(Event.of("x")), recorder.events);
    }

    @Test
    void multiLineData() {
        assertEquals(List.of(Event.of("first\nsecond\n\nfourth")),
                parseWhole("data: first\ndata: second\ndata\ndata: fourth\n\n"));
    }

    @Test
    void emptyDataFieldDispatchesEmptyString() {
        assertEquals(List.of(Event.of(""), Event.of("\n")), parseWhole("data:\n\ndata\ndata\n\n"));
    }

    @Test
    void noDataNoDispatchAndTypeIsReset() {
        assertEquals(List.of(Event.of("x")), parseWhole("event: ping\n\n\n\ndata: x\n\n"));
    }

    @Test
    void comments() {
        assertEquals(List.of(Event.of("a")), parseWhole(": keep-alive\n:\n:data: no\ndata: a\n: between\n\n: end\n\n"));
    }

    @Test
    void eventType() {
        assertEquals(List.of(new Event("", "delta", "a"), Event.of("b"), Event.of("c")),
                parseWhole("event: delta\ndata: a\n\ndata: b\n\nevent:\ndata: c\n\n"));
    }

    @Test
    void idPersistsAcrossEventsAndMayBeEmptied() {
        assertEquals(List.of(new Event("7", "message", "a"), new Event("7", "message", "b"),
                        new Event("", "message", "c"), new Event("8", "message", "d")),
                parseWhole("id: 7\ndata: a\n\ndata: b\n\nid\ndata: c\n\nid: 8\n\ndata: d\n\n"));
    }

    @Test
    void idWithNulIsIgnored() {
        assertEquals(List.of(new Event("1", "message", "a"), new Event("1", "message", "b")),
                parseWhole("id: 1\ndata: a\n\nid: 2\u00003\ndata: b\n\n"));
    }

    @Test
    void retryOnlyWithDigits() {
        List<Event> events = parseWhole("retry: 1500\nretry: 15x\nretry: -1\nretry:\nretry:  20\nretry:0\n"
                + "retry: 99999999999999999999999\ndata: a\n\n");
        assertEquals(List.of(Event.of("a")), events);
        assertEquals(List.of(1500L, 0L, Long.MAX_VALUE), recorder.retries);
    }

    @Test
    void leadingBomIsSkipped() {
        byte[] bom = {(byte) 0xEF, (byte) 0xBB, (byte) 0xBF};
        feed(bom);
        feed("data: a\n\n");
        parser.end();
        assertEquals(List.of(Event.of("a")), recorder.events);
    }

    @Test
    void leadingBomSplitAcrossFeedsIsSkipped() {
        feed(new byte[] {(byte) 0xEF});
        feed(new byte[] {(byte) 0xBB});
        feed(new byte[] {(byte) 0xBF, 'd'});
        feed("ata: a\n\n");
        assertEquals(List.of(Event.of("a")), recorder.events);
    }

    @Test
    void bomElsewhereIsContent() {
        // a second BOM at the start is not skipped: the field name becomes "\uFEFFdata", an unknown field
        assertEquals(List.of(Event.of("\uFEFFb")), parseWhole("\uFEFF\uFEFFdata: a\n\ndata: \uFEFFb\n\n"));
    }

    @Test
    void fieldWithoutColonHasEmptyValue() {
        assertEquals(List.of(Event.of(""), new Event("", "message", "x")),
                parseWhole("data\n\nevent\ndata: x\n\n"));
    }

    @Test
    void onlyOneLeadingSpaceIsRemoved() {
        assertEquals(List.of(Event.of("no-space"), Event.of("  two"), Event.of("a: b:c")),
                parseWhole("data:no-space\n\ndata:   two\n\ndata: a: b:c\n\n"));
    }

    @Test
    void unknownFieldsAreIgnored() {
        assertEquals(List.of(Event.of("a")), parseWhole("foo: bar\nData: no\ndata : no\ndata: a\n\n"));
    }

    @Test
    void unterminatedLastEventIsDiscardedAtEnd() {
        assertEquals(List.of(Event.of("a")), parseWhole("data: a\n\ndata: b\n"));
        Recorder other = new Recorder();
        EventStreamParser p = new EventStreamParser(other, 100, 100);
        p.feed(ByteBuffer.wrap("data: a\n\ndata: b".getBytes(StandardCharsets.UTF_8)));
        p.end();
        assertEquals(List.of(Event.of("a")), other.events);
        assertThrows(IllegalStateException.class, () -> p.feed(ByteBuffer.allocate(1)));
    }

    @Test
    void multiByteCharactersSplitByteByByte() {
        String text = "data: 漢字 and 🚀 and é\n\n";
        for (byte b : text.getBytes(StandardCharsets.UTF_8)) {
            feed(new byte[] {b});
        }
        assertEquals(List.of(Event.of("漢字 and 🚀 and é")), recorder.events);
    }

    @Test
    void malformedUtf8BecomesReplacementCharacter() {
        byte[] bytes = {'d', 'a', 't', 'a', ':', ' ', 'a', (byte) 0xFF, 'b', (byte) 0xE6, (byte) 0xBC, '\n', '\n'};
        feed(bytes);
        assertEquals(List.of(Event.of("a\uFFFDb\uFFFD")), recorder.events);
    }

    @Test
    void directAndReadOnlyBuffersAndPositions() {
        byte[] bytes = "xxdata: a\n\nyy".getBytes(StandardCharsets.UTF_8);
        ByteBuffer heap = ByteBuffer.wrap(bytes, 2, bytes.length - 4).asReadOnlyBuffer();
        parser.feed(heap);
        assertEquals(heap.limit(), heap.position());
        ByteBuffer direct = ByteBuffer.allocateDirect(16);
        direct.put("data: b\r\n\r\n".getBytes(StandardCharsets.US_ASCII)).flip();
        parser.feed(direct);
        assertEquals(List.of(Event.of("a"), Event.of("b")), recorder.events);
    }

    @Test
    void byteByByteEqualsAllAtOnceEqualsRandomPieces() {
        StringBuilder s = new StringBuilder("\uFEFF: hello\r\nretry: 3000\r\n");
        for (int i = 0; i < 50; i++) {
            s.append("id: ").append(i).append(i % 3 == 0 ? "\r\n" : i % 3 == 1 ? "\n" : "\r");
            if (i % 4 == 0) {
                s.append("event: e").append(i).append('\n');
            }
            s.append("data: {\"n\":").append(i).append(",\"t\":\"日本 🎉 ").append("x".repeat(i)).append("\"}\r\n");
            if (i % 5 == 0) {
                s.append("data:second\n");
            }
            s.append(i % 2 == 0 ? "\r\n" : "\n");
        }
        s.append("data: unterminated");
        byte[] bytes = s.toString().getBytes(StandardCharsets.UTF_8);

        Recorder whole = new Recorder();
        EventStreamParser p1 = new EventStreamParser(whole, 1024, 4096);
        p1.feed(ByteBuffer.wrap(bytes));
        p1.end();
        assertEquals(50, whole.events.size());
        assertEquals(List.of(3000L), whole.retries);
        assertEquals(new Event("0", "e0", "{\"n\":0,\"t\":\"日本 🎉 \"}\nsecond"), whole.events.get(0));

        Recorder single = new Recorder();
        EventStreamParser p2 = new EventStreamParser(single, 1024, 4096);
        for (byte b : bytes) {
            p2.feed(ByteBuffer.wrap(new byte[] {b}));
        }
        p2.end();
        assertEquals(whole.events, single.events);
        assertEquals(whole.retries, single.retries);

        Random random = new Random(20250101L);
        for (int round = 0; round < 20; round++) {
            Recorder pieces = new Recorder();
            EventStreamParser p3 = new EventStreamParser(pieces, 1024, 4096);
            for (int i = 0; i < bytes.length; ) {
                int n = Math.min(bytes.length - i, random.nextInt(40));
                p3.feed(ByteBuffer.wrap(bytes, i, n));
                i += n;
            }
            p3.end();
            assertEquals(whole.events, pieces.events);
        }
    }

    @Test
    void lineTooLongIsAProtocolError() {
        EventStreamParser p = new EventStreamParser(recorder, 16, 1000);
        p.feed(ByteBuffer.wrap("data: 0123456789\n\n".getBytes(StandardCharsets.US_ASCII))); // exactly 16
        assertEquals(List.of(Event.of("0123456789")), recorder.events);
        p.feed(ByteBuffer.wrap("data: 012345".getBytes(StandardCharsets.US_ASCII)));
        UpstreamException e = assertThrows(UpstreamException.class,
                () -> p.feed(ByteBuffer.wrap("6789X".getBytes(StandardCharsets.US_ASCII))));
        assertEquals(FailureCode.UPSTREAM_PROTOCOL, e.code());
    }

    @Test
    void lineTooLongWithoutAnyLineEnd() {
        EventStreamParser p = new EventStreamParser(recorder, 64, 1000);
        UpstreamException e = assertThrows(UpstreamException.class, () -> {
            for (int i = 0; i < 100; i++) {
                p.feed(ByteBuffer.wrap(new byte[] {'a'}));
            }
        });
        assertEquals(FailureCode.UPSTREAM_PROTOCOL, e.code());
    }

    @Test
    void dataTooLongIsAProtocolError() {
        EventStreamParser p = new EventStreamParser(recorder, 100, 10);
        p.feed(ByteBuffer.wrap("data: 01234\ndata: 5678\n\n".getBytes(StandardCharsets.US_ASCII))); // 10 chars
        assertEquals(List.of(Event.of("01234\n5678")), recorder.events);
        UpstreamException e = assertThrows(UpstreamException.class,
                () -> p.feed(ByteBuffer.wrap("data: 01234\ndata: 56789\n".getBytes(StandardCharsets.US_ASCII))));
        assertEquals(FailureCode.UPSTREAM_PROTOCOL, e.code());
        assertTrue(e.getMessage().contains("10"));
    }

    @Test
    void dataLimitCountsUtf16Units() {
        EventStreamParser p = new EventStreamParser(recorder, 100, 4);
        p.feed(ByteBuffer.wrap("data: 🚀🚀\n\n".getBytes(StandardCharsets.UTF_8))); // 8 bytes, 4 chars
        assertEquals(List.of(Event.of("🚀🚀")), recorder.events);
        assertThrows(UpstreamException.class,
                () -> p.feed(ByteBuffer.wrap("data: 🚀🚀a\n".getBytes(StandardCharsets.UTF_8))));
    }

    @Test
    void largeEventsDoNotBreakLaterOnes() {
        EventStreamParser p = new EventStreamParser(recorder, 1 << 20, 1 << 20);
        String big = "y".repeat(100_000);
        p.feed(ByteBuffer.wrap(("data: " + big + "\n\ndata: small\n\n").getBytes(StandardCharsets.US_ASCII)));
        assertEquals(List.of(Event.of(big), Event.of("small")), recorder.events);
    }
}
