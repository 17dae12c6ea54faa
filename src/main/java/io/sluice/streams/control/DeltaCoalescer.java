package io.sluice.streams.control;

import java.util.ArrayList;
import java.util.List;

/**
 * Coalesces tiny deltas into fewer SSE events (seed behaviour: first delta at once, later ones batched).
 * The first delta of each kind (answer, reasoning) is emitted at once, so the time to first token is not
 * delayed; later deltas are held and emitted together when the held text reaches {@code maxChars} UTF-16
 * code units or when it has waited {@code maxDelayNanos}, whichever comes first. A change of kind emits what
 * is held first, so the order of text is always kept. Concatenating the emitted pieces of a kind gives
 * exactly the offered text of that kind.
 *
 * <p>Pure logic with an explicit clock (nanoseconds), not thread-safe: its owner serializes calls and
 * schedules a call to {@link #poll} at {@link #deadlineNanos()}.
 */
public final class DeltaCoalescer {

    /** Which text a piece belongs to. */
    public enum Kind { CONTENT, REASONING }

    /** Text to emit as one {@code message} event. */
    public record Piece(Kind kind, String text) {
    }

    private final int maxChars;
    private final long maxDelayNanos;
    private final StringBuilder held = new StringBuilder();
    private Kind heldKind;
    private long heldSince;
    private boolean contentSeen;
    private boolean reasoningSeen;

    /**
     * @param maxChars      held size that triggers emission, in UTF-16 code units (at least 1)
     * @param maxDelayNanos longest time a piece is held
     */
    public DeltaCoalescer(int maxChars, long maxDelayNanos) {
        this.maxChars = Math.max(1, maxChars);
        this.maxDelayNanos = maxDelayNanos;
    }

    /**
     * Offers a delta and returns the pieces to emit now, in order (often none).
     *
     * @param text non-empty delta text
     */
    public List<Piece> offer(Kind kind, String text, long nowNanos) {
        List<Piece> out = new ArrayList<>(2);
        if (heldKind != null && heldKind != kind) {
            out.add(takeHeld());
        }
        boolean first = kind == Kind.CONTENT ? !contentSeen : !reasoningSeen;
        if (kind == Kind.CONTENT) {
            contentSeen = true;
        } else {
            reasoningSeen = true;
        }
        if (first && heldKind == null) {
            out.add(new Piece(kind, text));
            return out;
        }
        if (heldKind == null) {
            heldKind = kind;
            heldSince = nowNanos;
        }
        held.append(text);
        if (held.length() >= maxChars || nowNanos - heldSince >= maxDelayNanos) {
            out.add(takeHeld());
        }
        return out;
    }

    /** The held piece if it has waited long enough at {@code nowNanos}, else nothing. */
    public List<Piece> poll(long nowNanos) {
        if (heldKind != null && nowNanos - heldSince >= maxDelayNanos) {
            return List.of(takeHeld());
        }
        return List.of();
    }

    /** Whatever is held, regardless of time (at the end of a stream). */
    public List<Piece> drain() {
        return heldKind == null ? List.of() : List.of(takeHeld());
    }

    /** The text held of {@code kind}, not yet emitted; empty when none. */
    public String held(Kind kind) {
        return heldKind == kind ? held.toString() : "";
    }

    /** When the held piece is due, in the clock of the calls; {@link Long#MAX_VALUE} when nothing is held. */
    public long deadlineNanos() {
        return heldKind == null ? Long.MAX_VALUE : heldSince + maxDelayNanos;
    }

    private Piece takeHeld() {
        Piece piece = new Piece(heldKind, held.toString());
        held.setLength(0);
        heldKind = null;
        return piece;
    }
}
