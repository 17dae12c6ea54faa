package io.sluice.platform.control;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashSet;
import java.util.Set;
import java.util.UUID;
import org.junit.jupiter.api.Test;

class IdsTest {

    @Test
    void idsAreCanonicalVersion4UuidsAndDistinct() {
        Set<String> seen = new HashSet<>();
        for (int i = 0; i < 10_000; i++) {
            String id = Ids.newId();
            assertEquals(36, id.length());
            UUID uuid = UUID.fromString(id);
            assertEquals(4, uuid.version());
            assertEquals(2, uuid.variant());
            assertEquals(id, uuid.toString());
            assertTrue(seen.add(id), "no repeat");
        }
    }

    @Test
    void everyRandomBitVaries() {
        long msbOr = 0;
        long msbAnd = -1;
        long lsbOr = 0;
        long lsbAnd = -1;
        for (int i = 0; i < 2_000; i++) {
            UUID uuid = UUID.fromString(Ids.newId());
            msbOr |= uuid.getMostSignificantBits();
            msbAnd &= uuid.getMostSignificantBits();
            lsbOr |= uuid.getLeastSignificantBits();
            lsbAnd &= uuid.getLeastSignificantBits();
        }
        // 122 random bits: all vary except the 4 version bits and the 2 variant bits
        assertEquals(122, Long.bitCount(msbOr & ~msbAnd) + Long.bitCount(lsbOr & ~lsbAnd));
    }
}
