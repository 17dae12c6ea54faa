package io.sluice.providers.control;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import jakarta.json.Json;
import jakarta.json.JsonArray;
import jakarta.json.JsonObject;
import jakarta.json.JsonValue;
import java.io.StringReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The raw record of an upstream response: what it keeps, its bound, its times, and its compact encoding. */
class RawCaptureTest {

    private static final long T0 = 1_000_000_000L;

    private static long at(long millis) {
        return T0 + TimeUnit.MILLISECONDS.toNanos(millis);
    }

    private static JsonObject decoded(RawCapture raw) {
        return Json.createReader(new StringReader(RawCapture.decode(raw.encode()))).readObject();
    }

    private static String line(int i) {
        return "{\"id\":\"c-1\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"w" + i + " \"},\"finish_reason\":null}]}";
    }

    @Test
    void keepsEachChunkAsReceivedInOrderWithItsArrivalTimeTheStatusAndDone() {
        RawCapture raw = new RawCapture(1 << 20);
        raw.sent(T0);
        raw.status(200);
        // key order, spacing and number forms as the upstream wrote them
        String first = "{ \"z\":1.0E+2, \"a\":[1,2],\"choices\":[] }";
        raw.chunk(first, true, at(120));
        raw.chunk(line(1), true, at(121));
        raw.chunk(line(2), true, at(400));
        raw.done(at(401));
        String text = RawCapture.decode(raw.encode());
        assertTrue(text.startsWith("{\"chunks\":[" + first + "," + line(1) + "," + line(2) + "],"), text);
        JsonObject record = Json.createReader(new StringReader(text)).readObject();
        assertEquals(3, record.getJsonArray("chunks").size());
        assertEquals(Json.createReader(new StringReader(line(2))).readObject(),
                record.getJsonArray("chunks").getJsonObject(2));
        assertEquals(List.of(120, 121, 400), ints(record.getJsonArray("receivedAt")));
        assertFalse(record.getBoolean("truncated"));
        assertEquals(200, record.getInt("status"));
        assertEquals(401, record.getInt("doneAt"));
    }

    @Test
    void aLineThatIsNoJsonObjectIsKeptAsAJsonStringOfItsText() {
        RawCapture raw = new RawCapture(1 << 20);
        raw.sent(T0);
        String malformed = "{\"choices\":[{\"delta\":{\"content\":\"oops\"\nsecond \"line\"\t\\ \u0001 é";
        raw.chunk(malformed, false, at(5));
        raw.chunk("", false, at(6));
        JsonArray chunks = decoded(raw).getJsonArray("chunks");
        assertEquals(Json.createValue(malformed), chunks.get(0));
        assertEquals(Json.createValue(""), chunks.get(1));
    }

    @Test
    void anEmptyRecordHasNoChunksNoStatusAndNoDone() {
        RawCapture raw = new RawCapture(1 << 20); // the simulated model's: no upstream, nothing sent
        JsonObject record = decoded(raw);
        assertEquals(0, record.getJsonArray("chunks").size());
        assertEquals(0, record.getJsonArray("receivedAt").size());
        assertFalse(record.getBoolean("truncated"));
        assertEquals(JsonValue.NULL, record.get("status"));
        assertEquals(JsonValue.NULL, record.get("doneAt"));
    }

    @Test
    void theBoundCountsUtf8BytesPlusFivePerChunkAndKeepsAPrefix() {
        String ascii = "{\"c\":\"abc\"}";                 // 11 chars, 11 bytes
        String chinese = "{\"c\":\"你好\"}";                // 10 chars, 14 bytes (3 each)
        String emoji = "{\"c\":\"\uD83D\uDE00\"}";          // 10 chars (a surrogate pair), 12 bytes (4)
        assertEquals(10, chinese.length());
        assertEquals(14, chinese.getBytes(StandardCharsets.UTF_8).length);
        assertEquals(10, emoji.length());
        assertEquals(12, emoji.getBytes(StandardCharsets.UTF_8).length);
        int bound = (11 + 5) + (14 + 5) + (12 + 5); // exactly the three
        RawCapture raw = new RawCapture(bound);
        raw.sent(T0);
        raw.chunk(ascii, true, at(1));
        raw.chunk(chinese, true, at(2));
        raw.chunk(emoji, true, at(3));
        assertEquals(bound, raw.countedBytes());
        assertFalse(raw.truncated(), "a chunk that reaches the bound exactly is kept");
        raw.chunk("{}", true, at(4)); // one byte too many
        assertTrue(raw.truncated());
        JsonObject record = decoded(raw);
        assertEquals(3, record.getJsonArray("chunks").size());
        assertEquals("你好", record.getJsonArray("chunks").getJsonObject(1).getString("c"));
        assertEquals("\uD83D\uDE00", record.getJsonArray("chunks").getJsonObject(2).getString("c"));
        assertTrue(record.getBoolean("truncated"));
    }

    @Test
    void pastTheBoundTheRestIsDroppedEvenChunksThatWouldFit() {
        RawCapture raw = new RawCapture(100);
        raw.sent(T0);
        raw.chunk("{\"a\":\"" + "x".repeat(50) + "\"}", true, at(1)); // 57 + 5
        raw.chunk("{\"b\":\"" + "y".repeat(50) + "\"}", true, at(2)); // would pass 100: dropped
        raw.chunk("{}", true, at(3));                                    // would fit, but the rest is dropped
        assertEquals(1, raw.chunks());
        JsonObject record = decoded(raw);
        assertEquals(1, record.getJsonArray("chunks").size());
        assertEquals(List.of(1), ints(record.getJsonArray("receivedAt")));
        assertTrue(record.getBoolean("truncated"));
    }

    @Test
    void zeroKeepsNoChunkAndAllocatesNothing() {
        RawCapture raw = new RawCapture(0);
        raw.sent(T0);
        raw.chunk("{}", true, at(1));
        assertEquals(0, raw.chunks());
        assertEquals(0, raw.heldBytes());
        assertTrue(raw.truncated());
        assertThrows(IllegalArgumentException.class, () -> new RawCapture(-1));
    }

    @Test
    void memoryStaysWithinTheBoundAndIsSmallForAShortAnswer() {
        RawCapture small = new RawCapture(1 << 20);
        assertEquals(0, small.heldBytes(), "nothing before the first chunk");
        small.sent(T0);
        for (int i = 0; i < 3; i++) {
            small.chunk(line(i), true, at(i));
        }
        assertTrue(small.heldBytes() <= RawCapture.FIRST_SEGMENT + 8 * 4, "one small segment: " + small.heldBytes());

        int bound = 64 * 1024;
        RawCapture big = new RawCapture(bound);
        big.sent(T0);
        int i = 0;
        while (!big.truncated()) {
            big.chunk(line(i), true, at(i));
            i++;
        }
        long times = 4L * Integer.highestOneBit(Math.max(8, big.chunks()) * 2 - 1); // the doubled times array
        assertTrue(big.countedBytes() <= bound);
        assertTrue(big.heldBytes() - times <= bound, "segments " + (big.heldBytes() - times) + " within " + bound);
        assertEquals(big.chunks(), decoded(big).getJsonArray("chunks").size());
    }

    @Test
    void arrivalTimesAreWholeMsSinceTheRequestAndNeverDecrease() {
        RawCapture raw = new RawCapture(1 << 20);
        raw.sent(T0);
        long now = T0;
        List<Long> sent = new ArrayList<>();
        for (int i = 0; i < 200; i++) {
            now += TimeUnit.MICROSECONDS.toNanos(700 * (i % 5)); // irregular, some in the same ms
            sent.add(now);
            raw.chunk(line(i), true, now);
        }
        List<Integer> times = ints(decoded(raw).getJsonArray("receivedAt"));
        assertEquals(200, times.size());
        for (int i = 0; i < times.size(); i++) {
            assertEquals(TimeUnit.NANOSECONDS.toMillis(sent.get(i) - T0), times.get(i).longValue());
            if (i > 0) {
                assertTrue(times.get(i) >= times.get(i - 1));
            }
        }
    }

    @Test
    void encodingFreezesTheRecordIsCompactAndRoundTrips() {
        RawCapture raw = new RawCapture(1 << 20);
        raw.sent(T0);
        raw.status(200);
        StringBuilder plain = new StringBuilder();
        for (int i = 0; i < 300; i++) {
            raw.chunk(line(i), true, at(i));
            plain.append(line(i));
        }
        byte[] encoded = raw.encode();
        assertTrue(encoded.length * 10 < plain.length(), "gzipped: " + encoded.length + " of " + plain.length());
        assertEquals((byte) 0x1f, encoded[0], "a gzip member (RFC 1952)");
        assertEquals((byte) 0x8b, encoded[1]);
        raw.chunk(line(999), true, at(999)); // after the save: ignored
        raw.done(at(1000));
        assertSame(encoded, raw.encode(), "a retried save stores the same bytes");
        JsonObject record = decoded(raw);
        assertEquals(300, record.getJsonArray("chunks").size());
        for (int i = 0; i < 300; i++) {
            assertEquals(Json.createReader(new StringReader(line(i))).readObject(),
                    record.getJsonArray("chunks").getJsonObject(i));
        }
        assertEquals(JsonValue.NULL, record.get("doneAt"));
        assertArrayEquals(encoded, raw.encode());
        assertThrows(IllegalArgumentException.class, () -> RawCapture.decode("not gzip".getBytes(StandardCharsets.UTF_8)));
    }

    private static List<Integer> ints(JsonArray array) {
        return array.getValuesAs(jakarta.json.JsonNumber.class).stream().map(jakarta.json.JsonNumber::intValue).toList();
    }
}
