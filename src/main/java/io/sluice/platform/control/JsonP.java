package io.sluice.platform.control;

import jakarta.json.spi.JsonProvider;

/**
 * The JSON-P provider, looked up once. {@code JSON.createObjectBuilder()} and its siblings look the provider
 * up with a {@code ServiceLoader} on every call; on Payara that scan of the server's jars serializes on a
 * jar-file lock and took over a fifth of the CPU under load (benchmark in {@code src/test/java/io/sluice/bench}).
 * Use {@link #JSON} on every path that runs per request, per stream or per event.
 */
public final class JsonP {

    /** The provider; thread-safe, as are the builders' factories it creates. */
    public static final JsonProvider JSON = JsonProvider.provider();

    private JsonP() {
    }
}
