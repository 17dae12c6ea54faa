package io.sluice.streams.control;

import static io.sluice.platform.control.JsonP.JSON;

import io.sluice.conversations.entity.MessageStatus;
import io.sluice.providers.control.FailureCode;
import io.sluice.providers.control.UpstreamException;
import jakarta.json.JsonNumber;
import jakarta.json.JsonObject;
import jakarta.json.JsonObjectBuilder;
import jakarta.json.JsonString;
import java.io.StringReader;

/**
 * A {@link StreamEntry} as one compact JSON object, the value of a Redis Stream entry's {@code e} field (issue 10):
 * what one node appends, another reads back equal. Shapes:
 * <ul>
 *   <li>{@code Opened}: {@code {"t":"o","d":{the stream event's data}}};</li>
 *   <li>{@code Delta}: {@code {"t":"d","k":"c"|"r","f":from,"x":text,"c":contentEnd,"z":isFinal}} (UTF-16 code
 *       units);</li>
 *   <li>{@code Ended}: {@code {"t":"e","s":status,"ms":messageStatus,"r":reason,"fr":finishReason,"u":usage,
 *       "md":model,"fc":failureCode,"fm":failureMessage,"fs":upstreamStatus,"fa":retryAfterSeconds,"id":messageId,
 *       "c":contentEnd}}, absent members for {@code null}s.</li>
 * </ul>
 */
public final class EntryCodec implements LogCodec<StreamEntry> {

    /** The codec of every stream's log. */
    public static final EntryCodec STREAMS = new EntryCodec();

    private EntryCodec() {
    }

    /** The entry as JSON text. */
    @Override
    public String encode(StreamEntry entry) {
        JsonObjectBuilder b = JSON.createObjectBuilder();
        if (entry instanceof StreamEntry.Opened o) {
            b.add("t", "o").add("d", o.data());
        } else if (entry instanceof StreamEntry.Delta d) {
            b.add("t", "d").add("k", d.reasoning() ? "r" : "c").add("f", d.from()).add("x", d.text())
                    .add("c", d.contentEnd()).add("z", d.isFinal());
        } else {
            StreamEntry.Ended e = (StreamEntry.Ended) entry;
            Stream.End end = e.end();
            b.add("t", "e").add("s", end.status().name()).add("ms", end.messageStatus().name())
                    .add("c", e.contentEnd());
            optional(b, "r", end.reason());
            optional(b, "fr", end.finishReason());
            optional(b, "md", end.model());
            optional(b, "id", e.messageId());
            if (end.usage() != null) {
                b.add("u", end.usage());
            }
            UpstreamException f = end.failure();
            if (f != null) {
                b.add("fc", f.code().name()).add("fm", f.getMessage() == null ? "" : f.getMessage())
                        .add("fs", f.upstreamStatus());
                if (f.retryAfterSeconds() != null) {
                    b.add("fa", f.retryAfterSeconds());
                }
            }
        }
        return b.build().toString();
    }

    /**
     * The entry that {@link #encode} wrote.
     *
     * @throws IllegalArgumentException when {@code text} is not such an object
     */
    @Override
    public StreamEntry decode(String text) {
        JsonObject o;
        try {
            o = JSON.createReader(new StringReader(text)).readObject();
        } catch (RuntimeException e) {
            throw new IllegalArgumentException("not a logged entry", e);
        }
        try {
            return switch (o.getString("t")) {
                case "o" -> new StreamEntry.Opened(o.getJsonObject("d"));
                case "d" -> new StreamEntry.Delta("r".equals(o.getString("k")) ? DeltaCoalescer.Kind.REASONING
                        : DeltaCoalescer.Kind.CONTENT, o.getInt("f"), o.getString("x"), o.getInt("c"),
                        o.getBoolean("z"));
                case "e" -> {
                    UpstreamException failure = o.containsKey("fc")
                            ? new UpstreamException(FailureCode.valueOf(o.getString("fc")), o.getString("fm"),
                            o.getInt("fs", 0), o.get("fa") instanceof JsonNumber n ? n.longValue() : null)
                            : null;
                    Stream.End end = new Stream.End(StreamStatus.valueOf(o.getString("s")),
                            MessageStatus.valueOf(o.getString("ms")), text(o, "r"), text(o, "fr"),
                            o.get("u") instanceof JsonObject u ? u : null, text(o, "md"), failure);
                    yield new StreamEntry.Ended(end, text(o, "id"), o.getInt("c"));
                }
                default -> throw new IllegalArgumentException("unknown entry type " + o.getString("t"));
            };
        } catch (ClassCastException | NullPointerException e) {
            throw new IllegalArgumentException("not a logged entry", e);
        }
    }

    /** {@code Ended} is the last entry. */
    @Override
    public boolean last(StreamEntry entry) {
        return entry instanceof StreamEntry.Ended;
    }

    private static void optional(JsonObjectBuilder b, String key, String value) {
        if (value != null) {
            b.add(key, value);
        }
    }

    private static String text(JsonObject o, String key) {
        return o.get(key) instanceof JsonString s ? s.getString() : null;
    }
}
