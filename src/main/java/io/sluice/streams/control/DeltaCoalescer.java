package io.sluice.streams.control;

import java.util.ArrayList;
import java.util.List;

/**
 * Coalesces tiny deltas into fewer SSE events (seed behaviour: first delta at once, later ones batched), as a rate
 * limit that adds no delay to sparse deltas: a delta is emitted at once when the stream emitted nothing in the last
 * {@code maxDelayNanos}; otherwise it is held, with any that follow, until {@code maxDelayNanos} after the last
 * emission, or until the held text reaches {@code maxChars} UTF-16 code units, whichever comes first. So a stream
 * emits at most about one event per {@code maxDelayNanos} plus the size-triggered ones, a delta waits at most
 * {@code maxDelayNanos}, and an upstream that sends a chunk every 100 ms gets every chunk relayed at once.
 *
 * <p>The first delta of each kind (answer, reasoning) is emitted at once, so the time to first token is not delayed.
 * A change of kind emits what is held first, so the order of text is always kept. Concatenating the emitted pieces of
 * a kind gives exactly the offered text of that kind.
 *
 * <p>Pure logic with an explicit clock (nanoseconds), not thread-safe: its owner serializes calls and calls
 * {@link #poll} at {@link #deadlineNanos()}.
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
    private boolean emittedOnce;
    private long lastEmitNanos;
    private boolean contentSeen;
    private boolean reasoningSeen;

    /**
     * @param maxChars      held size that triggers emission, in UTF-16 code units (at least 1)
     * @param maxDelayNanos longest time a piece is held, and the shortest interval between time-triggered emissions
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
            out.add(takeHeld(nowNanos));
        }
        boolean first = kind == Kind.CONTENT ? !contentSeen : !reasoningSeen;
        if (kind == Kind.CONTENT) {
            contentSeen = true;
        } else {
            reasoningSeen = true;
        }
        if (heldKind == null && (first || !emittedOnce || nowNanos - lastEmitNanos >= maxDelayNanos)) {
            out.add(emit(new Piece(kind, text), nowNanos));
            return out;
        }
        heldKind = kind;
        held.append(text);
        if (held.length() >= maxChars || nowNanos - deadlineNanos() >= 0) {
            out.add(takeHeld(nowNanos));
        }
        return out;
    }

    /** The held piece if it is due at {@code nowNanos}, else nothing. */
    public List<Piece> poll(long nowNanos) {
        if (heldKind != null && nowNanos - deadlineNanos() >= 0) {
            return List.of(takeHeld(nowNanos));
        }
        return List.of();
    }

    /** Whatever is held, regardless of time (at the end of a stream). */
    public List<Piece> drain() {
        return heldKind == null ? List.of() : List.of(takeHeld(lastEmitNanos));
    }

    /** The text held of {@code kind}, not yet emitted; empty when none. */
    public String held(Kind kind) {
        return heldKind == kind ? held.toString() : "";
    }

    /**
     * When the held piece is due ({@code maxDelayNanos} after the last emission), in the clock of the calls;
     * {@link Long#MAX_VALUE} when nothing is held.
     */
    public long deadlineNanos() {
        return heldKind == null ? Long.MAX_VALUE : lastEmitNanos + maxDelayNanos;
    }

    private Piece takeHeld(long nowNanos) {
        Piece piece = new Piece(heldKind, held.toString());
        held.setLength(0);
        heldKind = null;
        return emit(piece, nowNanos);
    }

    private Piece emit(Piece piece, long nowNanos) {
        emittedOnce = true;
        lastEmitNanos = nowNanos;
        return piece;
    }
}
