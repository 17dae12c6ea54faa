package io.sluice.providers.control;

import java.util.Locale;
import java.util.Optional;

/**
 * The type of a model route (API.md section 10): {@code thinking} (reasoning models), {@code fast} (small, quick
 * models: titles, prompt rewrites) or {@code instruct} (general chat). A request may name a type instead of a route;
 * it then gets that type's first route. {@link #wire()} is the JSON value.
 */
public enum ModelType {
    THINKING, FAST, INSTRUCT;

    /** @return {@code thinking}, {@code fast} or {@code instruct} */
    public String wire() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** The type with this JSON value (exact, lower case), or empty. */
    public static Optional<ModelType> fromWire(String s) {
        for (ModelType type : values()) {
            if (type.wire().equals(s)) {
                return Optional.of(type);
            }
        }
        return Optional.empty();
    }
}
