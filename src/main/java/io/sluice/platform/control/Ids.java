package io.sluice.platform.control;

import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.UUID;

/**
 * Unguessable ids: random (version 4) UUIDs, 122 random bits from a cryptographically strong generator,
 * in their canonical 36-character form.
 *
 * <p>{@link UUID#randomUUID()} draws from one JVM-wide {@code NativePRNG} whose reads of
 * {@code /dev/urandom} are serialized on a global lock; under load (the benchmark in
 * {@code src/test/java/io/sluice/bench}) two hundred request threads queued on it. Here each thread has its
 * own {@code DRBG} instance (NIST SP 800-90A), seeded from the system once.
 */
public final class Ids {

    private static final ThreadLocal<SecureRandom> RANDOM = ThreadLocal.withInitial(Ids::generator);

    private Ids() {
    }

    /** A new random UUID string, e.g. {@code 3f0c5a1e-8d2b-4c6f-9a7e-1b2c3d4e5f60}. */
    public static String newId() {
        byte[] bytes = new byte[16];
        RANDOM.get().nextBytes(bytes);
        bytes[6] = (byte) ((bytes[6] & 0x0f) | 0x40); // version 4
        bytes[8] = (byte) ((bytes[8] & 0x3f) | 0x80); // IETF variant
        long msb = 0;
        long lsb = 0;
        for (int i = 0; i < 8; i++) {
            msb = (msb << 8) | (bytes[i] & 0xff);
            lsb = (lsb << 8) | (bytes[8 + i] & 0xff);
        }
        return new UUID(msb, lsb).toString();
    }

    private static SecureRandom generator() {
        try {
            return SecureRandom.getInstance("DRBG");
        } catch (NoSuchAlgorithmException e) {
            return new SecureRandom();
        }
    }
}
