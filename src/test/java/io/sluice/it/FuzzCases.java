package io.sluice.it;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Random;

/**
 * Generated hostile requests and WebSocket frames for the fuzz test (issue 11): every HTTP endpoint with random
 * methods, ids, query values, headers, content types and bodies (JSON of the right and the wrong shape, nested deep,
 * with lone surrogates, huge numbers, bad percent-escapes, random bytes), and every frame type. A seed makes a run
 * repeatable: {@code -Dsluice.fuzz.seed=N} (CI uses a fixed one), {@code -Dsluice.fuzz.cases=N}. Paths and queries stay
 * valid URIs (the JDK client sends nothing else): a bad escape reaches the server encoded ({@code %25ZZ}).
 */
final class FuzzCases {

    /** One HTTP request: method, path (with its query), content type or null, body or null. */
    record Request(String method, String path, String contentType, byte[] body, String lastEventId) {
        @Override
        public String toString() {
            return method + " " + path + " [" + contentType + "] "
                    + (body == null ? "" : new String(body, 0, Math.min(body.length, 200), StandardCharsets.UTF_8));
        }
    }

    private static final List<String> PATHS = List.of("api/chat/stream", "api/chat/resume", "api/chat/abort",
            "api/streams", "api/streams/{id}", "api/streams/{id}/events", "api/streams/{id}/stop",
            "api/conversations", "api/conversations/{id}", "api/conversations/{id}/messages", "api/agents/roster",
            "api/agents/runs", "api/agents/runs/{id}", "api/info", "api/models", "api/metrics", "api/generate",
            "api/v1/ai/generate", "v1/chat/completions", "v1/models", "metrics", "health/live", "health/ready", "openapi");
    private static final List<String> METHODS = List.of("GET", "POST", "POST", "POST", "PUT", "DELETE", "PATCH",
            "OPTIONS", "HEAD");
    private static final List<String> TYPES = List.of("application/json", "application/json", "application/json",
            "application/x-www-form-urlencoded", "text/plain", "text/plain;charset=ISO-8859-1", "multipart/form-data",
            "application/json; charset=utf-16", "application/xml");
    private static final List<String> FIELDS = List.of("message", "model", "type", "relatedId", "input",
            "conversationId", "streamId", "reason", "title", "messages", "stream", "prompt", "systemPrompt",
            "offset", "after", "lastEventId", "clientId", "parentId", "task", "agents", "max_tokens", "temperature",
            "role", "content", "n", "tools", "stream_options");
    private static final List<String> TYPE_NAMES = List.of("chat", "conversation_title", "topic_title",
            "prompt_optimization", "system_prompt", "agent", "nope", "", "conversation_title_generation",
            "topic_title_generation", "chat_generation");

    private final Random random;

    FuzzCases(long seed) {
        this.random = new Random(seed);
    }

    Request request() {
        String path = PATHS.get(random.nextInt(PATHS.size())).replace("{id}", id());
        if (random.nextInt(3) == 0) {
            path += "?" + pick("after", "wait", "status", "lastEventId", "clientId", "offset", "q", "stream") + "="
                    + scalar();
        }
        String method = METHODS.get(random.nextInt(METHODS.size()));
        boolean hasBody = !method.equals("GET") && !method.equals("HEAD") && random.nextInt(6) != 0;
        String type = hasBody && random.nextInt(8) != 0 ? TYPES.get(random.nextInt(TYPES.size())) : null;
        byte[] body = hasBody ? body(type) : null;
        String lastEventId = random.nextInt(5) == 0 ? scalar() : null;
        return new Request(method, path, type, body, lastEventId);
    }

    /** A WebSocket frame of any type, well-formed or not. */
    String frame() {
        return switch (random.nextInt(6)) {
            case 0 -> "{\"type\":\"run\",\"task\":" + value(0) + ",\"agents\":" + value(0) + ",\"model\":"
                    + pick("\"nope\"", "null", "42", "\"" + "m".repeat(300) + "\"") + "}";
            case 1 -> "{\"type\":\"resume\",\"runId\":" + value(0) + ",\"afterSequence\":" + value(0) + "}";
            case 2 -> "{\"type\":\"stop\",\"runId\":" + value(0) + ",\"agent\":" + value(0) + "}";
            case 3 -> "{\"type\":" + value(0) + "}";
            case 4 -> object(0);
            default -> garbage();
        };
    }

    private byte[] body(String type) {
        String text;
        if (type != null && type.startsWith("application/x-www-form-urlencoded")) {
            text = pick("streamId", "conversationId", "reason", "x", "%ZZ", "") + "=" + pick("%ZZ", "%", "%E", "%C3%28", "abc", id(),
                    "unload") + (random.nextBoolean() ? "&reason=" + pick("%", "user", "unload", "%FF") : "");
        } else {
            text = switch (random.nextInt(5)) {
                case 0, 1 -> object(0);
                case 2 -> value(0);
                case 3 -> "[".repeat(random.nextInt(2000)) + (random.nextBoolean() ? "]" : "");
                default -> garbage();
            };
        }
        if (random.nextInt(20) == 0) {
            byte[] bytes = new byte[random.nextInt(64)];
            random.nextBytes(bytes);
            return bytes;
        }
        return text.getBytes(StandardCharsets.UTF_8);
    }

    private String object(int depth) {
        StringBuilder b = new StringBuilder("{");
        int n = random.nextInt(5);
        for (int i = 0; i < n; i++) {
            b.append(i == 0 ? "" : ",").append('"').append(FIELDS.get(random.nextInt(FIELDS.size()))).append("\":")
                    .append(value(depth + 1));
        }
        return b.append('}').toString();
    }

    private String value(int depth) {
        int kind = random.nextInt(depth > 3 ? 7 : 10);
        return switch (kind) {
            case 0 -> "null";
            case 1 -> pick("true", "false");
            case 2 -> pick("0", "-1", "1e309", "123456789012345678901234567890", "3.5", "-0", "1E-400");
            case 3 -> "\"" + TYPE_NAMES.get(random.nextInt(TYPE_NAMES.size())) + "\"";
            case 4 -> "\"" + pick("a\\udfff", "\\ud800", "\\u0000", "caf\\u00e9", "\\ud83d\\ude00", "x".repeat(70_000),
                    "</script><img src=x onerror=alert(1)>", "\\\"", id(), "simulated", "paced:2:1") + "\"";
            case 5 -> "\"" + "y".repeat(random.nextInt(300)) + "\"";
            case 6 -> "\"" + id() + "\"";
            case 7 -> "[" + value(depth + 1) + "," + value(depth + 1) + "]";
            case 8 -> object(depth + 1);
            default -> "[{\"role\":" + pick("\"user\"", "\"system\"", "\"tool\"", "7") + ",\"content\":"
                    + value(depth + 1) + "}]";
        };
    }

    private String garbage() {
        return pick("{", "}", "{\"a\":", "nul", "\"unterminated", "{\"message\":\"x\"}{}", "\u0000\u0001", "{'a':1}",
                "{\"message\":\"hi\",}", "\ufeff{\"message\":\"bom\"}", "");
    }

    private String id() {
        return pick("00000000-0000-0000-0000-000000000000", java.util.UUID.randomUUID().toString(), "x", "%2e%2e",
                "..%2F..%2Fetc", "a".repeat(300), "%25ZZ", "1", "-1", "%00", "%F0%9F%98%80");
    }

    private String scalar() {
        return pick("0", "-1", "abc", "99999999999999999999", "1.5", "", "%25ZZ", "%25", "1e3", "active", "done");
    }

    private String pick(String... options) {
        return options[random.nextInt(options.length)];
    }
}
