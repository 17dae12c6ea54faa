package io.sluice.identity.control;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * Bearer keys of API clients mapped to users (API.md section 8, {@code SLUICE_API_KEYS}). Only SHA-256 hashes of the
 * keys are kept, and a presented key is hashed and compared with every known hash in constant time
 * ({@link MessageDigest#isEqual}, no early exit), so neither the comparison's duration nor a memory dump gives a key
 * away. Immutable and thread-safe.
 *
 * <p>Two sources, which may be combined:
 * <ul>
 *   <li>{@code SLUICE_API_KEYS}: comma-separated {@code user:key} pairs ({@code alice:sk-team-a,bob:sk-team-b}); the
 *       key is everything after the first colon;</li>
 *   <li>{@code SLUICE_API_KEYS_FILE}: a file of {@code user sha256-hex} lines (the hex SHA-256 of the key's UTF-8
 *       bytes, as {@code printf %s "$KEY" | sha256sum} prints it); blank lines and lines starting with {@code #} are
 *       skipped. The file never holds a key itself.</li>
 * </ul>
 * User names are 1 to 100 characters of letters, digits and {@code . _ @ -}; a key's owner is
 * {@link Owners#forPrincipal user:NAME}, the same owner as a logged-in principal of that name.
 */
public final class ApiKeys {

    private static final Pattern USER = Pattern.compile("[A-Za-z0-9._@-]{1,100}");
    private static final Pattern HASH = Pattern.compile("[0-9a-fA-F]{64}");

    private record Entry(byte[] hash, String user) {
    }

    private final List<Entry> entries;

    private ApiKeys(List<Entry> entries) {
        this.entries = List.copyOf(entries);
    }

    /** No keys: API clients are identified as browsers are (API.md section 6). */
    public static final ApiKeys NONE = new ApiKeys(List.of());

    /**
     * @param pairs the value of {@code SLUICE_API_KEYS}, or {@code null}
     * @param file  the lines of the {@code SLUICE_API_KEYS_FILE} file, or {@code null}
     * @throws IllegalArgumentException for a malformed pair or line (the message gives its position, never a key)
     */
    public static ApiKeys parse(String pairs, List<String> file) {
        List<Entry> entries = new ArrayList<>();
        if (pairs != null) {
            String[] items = pairs.split(",");
            for (int i = 0; i < items.length; i++) {
                String item = items[i].strip();
                if (item.isEmpty()) {
                    continue;
                }
                int colon = item.indexOf(':');
                if (colon <= 0 || colon == item.length() - 1) {
                    throw new IllegalArgumentException("SLUICE_API_KEYS entry " + (i + 1) + " is not user:key");
                }
                String user = item.substring(0, colon).strip();
                checkUser(user, "SLUICE_API_KEYS entry " + (i + 1));
                entries.add(new Entry(sha256(item.substring(colon + 1).strip()), user));
            }
        }
        if (file != null) {
            for (int i = 0; i < file.size(); i++) {
                String line = file.get(i).strip();
                if (line.isEmpty() || line.startsWith("#")) {
                    continue;
                }
                String[] parts = line.split("\\s+");
                String where = "SLUICE_API_KEYS_FILE line " + (i + 1);
                if (parts.length != 2 || !HASH.matcher(parts[1]).matches()) {
                    throw new IllegalArgumentException(where + " is not: user sha256-hex-of-key");
                }
                checkUser(parts[0], where);
                entries.add(new Entry(HexFormat.of().parseHex(parts[1].toLowerCase()), parts[0]));
            }
        }
        return new ApiKeys(entries);
    }

    private static void checkUser(String user, String where) {
        if (!USER.matcher(user).matches()) {
            throw new IllegalArgumentException(where + ": the user must be 1 to 100 letters, digits, . _ @ or -");
        }
    }

    /** Whether any key is configured: then {@code /v1} requires one. */
    public boolean enabled() {
        return !entries.isEmpty();
    }

    /**
     * The owner key ({@code user:NAME}) of a presented key, or empty when it is unknown. Takes the same time whichever
     * entry matches, or none.
     */
    public Optional<String> ownerOf(String presented) {
        if (presented == null || presented.isEmpty()) {
            return Optional.empty();
        }
        byte[] hash = sha256(presented);
        String found = null;
        for (Entry entry : entries) {
            if (MessageDigest.isEqual(entry.hash(), hash) & found == null) {
                found = entry.user();
            }
        }
        return Optional.ofNullable(found).map(Owners::forPrincipal);
    }

    /** The SHA-256 of a key's UTF-8 bytes. */
    static byte[] sha256(String key) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(key.getBytes(StandardCharsets.UTF_8));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JDK has SHA-256", e);
        }
    }
}
