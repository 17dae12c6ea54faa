package io.sluice.streams.control;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;

import io.sluice.conversations.entity.MessageStatus;
import jakarta.json.Json;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** An ended stream's compact entries equal the ones it replaces, in every position. */
class CompactStreamLogTest {

    @Test
    void theCompactFormReadsBackEqualEntries() {
        Random random = new Random(3);
        List<StreamEntry> entries = new ArrayList<>();
        entries.add(new StreamEntry.Opened(Json.createObjectBuilder().add("streamId", "s").build()));
        int content = 0;
        int reasoning = 0;
        for (int i = 0; i < 300; i++) {
            boolean ofReasoning = i < 50 || random.nextInt(8) == 0;
            String text = "piece " + i + (random.nextBoolean() ? " 🙂" : "\n");
            if (ofReasoning) {
                entries.add(new StreamEntry.Delta(DeltaCoalescer.Kind.REASONING, reasoning, text, content, false));
                reasoning += text.length();
            } else {
                content += text.length();
                entries.add(new StreamEntry.Delta(DeltaCoalescer.Kind.CONTENT, content - text.length(), text, content,
                        false));
            }
        }
        entries.add(new StreamEntry.Delta(DeltaCoalescer.Kind.CONTENT, content, "", content, true));
        entries.add(new StreamEntry.Ended(Stream.End.stopped("user", MessageStatus.STOPPED), "m-1", content));
        List<StreamEntry> compact = CompactStreamLog.of(entries);
        assertNotSame(entries, compact);
        assertEquals(entries.size(), compact.size());
        for (int i = 0; i < entries.size(); i++) {
            assertEquals(entries.get(i), compact.get(i), "entry " + i);
        }
    }

    @Test
    void aLogOfAnotherShapeIsLeftAsItIs() {
        List<StreamEntry> open = List.of(new StreamEntry.Opened(Json.createObjectBuilder().build()));
        assertSame(open, CompactStreamLog.of(open));
    }
}
