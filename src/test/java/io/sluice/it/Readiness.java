package io.sluice.it;

import java.io.IOException;
import java.net.URI;
import java.net.URL;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * Waits, once per deployed server, until its {@code GET /health/ready} answers 200, as a load balancer would before it
 * sends the server traffic (issue 22: the node warms itself up first, and its readiness is DOWN meanwhile). The
 * suites thus test a node in the state users meet. At most 120 s. Health is at the server's root, whatever the
 * application's context root (Payara serves it there for every application; RoutesIT deploys at {@code /sluice}).
 */
final class Readiness {

    private static final Set<String> READY = ConcurrentHashMap.newKeySet();

    private Readiness() {
    }

    /**
     * @param base the server's root URL
     * @throws AssertionError when it is not ready within 120 s
     */
    static void await(URL base) throws Exception {
        String root = base.toURI().resolve("/").toString();
        if (READY.contains(root)) {
            return;
        }
        HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
        long start = System.nanoTime();
        long deadline = start + TimeUnit.SECONDS.toNanos(120);
        String last = "no answer";
        while (System.nanoTime() < deadline) {
            try {
                HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(root + "health/ready"))
                        .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
                if (r.statusCode() == 200) {
                    READY.add(root);
                    System.out.println("[readiness] " + root + " ready after "
                            + TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start) + " ms of waiting: " + r.body());
                    return;
                }
                last = r.statusCode() + " " + r.body();
            } catch (IOException e) {
                last = e.toString();
            }
            Thread.sleep(200);
        }
        throw new AssertionError(root + "health/ready was not 200 within 120 s; last answer: " + last);
    }
}
