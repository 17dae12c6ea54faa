package io.sluice.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.microsoft.playwright.Browser;
import com.microsoft.playwright.BrowserContext;
import com.microsoft.playwright.BrowserType;
import com.microsoft.playwright.Page;
import com.microsoft.playwright.Playwright;
import jakarta.json.Json;
import jakarta.json.JsonArray;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.StringReader;
import java.net.InetAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import no.nav.security.mock.oauth2.MockOAuth2Server;
import no.nav.security.mock.oauth2.OAuth2Config;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

/**
 * OpenID Connect login (API.md section 12) end to end: the deployed server is configured with
 * {@code SLUICE_OIDC_ISSUER}, {@code _CLIENT_ID} and {@code _CLIENT_SECRET} (its own failsafe execution in pom.xml)
 * and points at a real OpenID provider that this test starts: NAV's mock-oauth2-server, with its interactive login
 * page. Chromium follows the whole authorization code flow (page, provider, login form, callback, page), then
 * streams an answer as the logged-in user. Without a login, the API answers 401 and the WebSocket handshake too, and
 * no anonymous identity is ever issued.
 */
@EnabledIfSystemProperty(named = "sluice.it.oidc", matches = "on",
        disabledReason = "runs in the failsafe execution 'oidc' of pom.xml, whose server has OpenID Connect login on")
class OidcIT extends BlackBoxTest {

    private static final Path CHROMIUM = Path.of(System.getProperty("sluice.chromium", "/usr/bin/chromium"));
    /** The provider's port: the server under test is configured with it before this class loads (pom.xml). */
    static final int PROVIDER_PORT = Integer.getInteger("sluice.it.oidc.port", 18091);
    /** Started when the class loads: before Arquillian deploys the WAR, which reads the provider's metadata. */
    static final MockOAuth2Server PROVIDER = startProvider();

    private static Playwright playwright;
    private static Browser browser;

    private static MockOAuth2Server startProvider() {
        MockOAuth2Server server = new MockOAuth2Server(OAuth2Config.Companion.fromJson("{\"interactiveLogin\":true}"));
        try {
            server.start(InetAddress.getByName("127.0.0.1"), PROVIDER_PORT);
        } catch (java.net.UnknownHostException e) {
            throw new IllegalStateException(e);
        }
        return server;
    }

    @BeforeAll
    static void launchChromium() {
        if (Files.isExecutable(CHROMIUM)) {
            playwright = Playwright.create(new Playwright.CreateOptions()
                    .setEnv(Map.of("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1")));
            browser = playwright.chromium().launch(new BrowserType.LaunchOptions().setExecutablePath(CHROMIUM)
                    .setHeadless(true).setArgs(List.of("--no-sandbox", "--disable-gpu", "--no-first-run")));
        }
    }

    @AfterAll
    static void stopAll() {
        if (browser != null) {
            browser.close();
        }
        if (playwright != null) {
            playwright.close();
        }
        PROVIDER.shutdown();
    }

    @Test
    void withoutALoginTheApiAnswers401AndIssuesNoIdentity() throws Exception {
        HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
        for (String path : List.of("api/conversations", "api/streams?status=active", "api/metrics")) {
            HttpResponse<String> r = http.send(HttpRequest.newBuilder(uri(path)).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(401, r.statusCode(), path + ": " + r.body());
            assertEquals("application/problem+json", r.headers().firstValue("Content-Type").orElse(""));
            assertTrue(r.headers().allValues("Set-Cookie").stream().noneMatch(c -> c.startsWith("sluice_uid=")),
                    "no anonymous identity");
        }
        HttpResponse<String> post = http.send(HttpRequest.newBuilder(uri("api/chat/stream"))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString("{\"message\":\"hello\"}")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(401, post.statusCode(), post.body());
        String handshake = raw("GET /ws/agents HTTP/1.1\r\nHost: localhost:" + base.getPort() + "\r\nUpgrade: websocket\r\n"
                + "Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n");
        assertTrue(handshake.startsWith("HTTP/1.1 401"), handshake);
        HttpResponse<String> page = http.send(HttpRequest.newBuilder(uri("")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(302, page.statusCode(), "the page sends the visitor to the identity provider");
        String location = page.headers().firstValue("Location").orElse("");
        assertTrue(location.startsWith("http://127.0.0.1:" + PROVIDER_PORT + "/sluice/authorize?"), location);
        assertTrue(location.contains("client_id=sluice") && location.contains("response_type=code"), location);
        HttpResponse<String> health = http.send(HttpRequest.newBuilder(uri("health/ready")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(200, health.statusCode(), "operations endpoints stay open: " + health.body());
    }

    @Test
    void aUserLogsInThroughTheProviderAndOwnsWhatTheyCreate() {
        Assumptions.assumeTrue(browser != null, "no Chromium at " + CHROMIUM + ": skipped");
        String marker = "OIDC " + UUID.randomUUID();
        try (BrowserContext alice = browser.newContext()) {
            Page page = login(alice, "alice");
            page.locator("#model-select").selectOption("__custom"); // a model name of one's own
            page.locator("#model").fill("paced:5:10");
            page.locator("#model").dispatchEvent("change");
            page.locator("#prompt").fill(marker);
            page.locator("#prompt").press("Enter");
            page.locator(".msg.assistant[data-status=completed]").waitFor();
            assertEquals(FakeUpstream.pacedText(5).strip(),
                    page.locator(".msg.assistant .msg-body").last().innerText().strip());
            assertTrue(alice.cookies().stream().noneMatch(c -> c.name.equals("sluice_uid")), "no anonymous identity");
            assertTrue(titles(alice).contains(marker));
        }
        try (BrowserContext bob = browser.newContext()) {
            login(bob, "bob");
            assertTrue(!titles(bob).contains(marker), "another user does not see alice's conversation");
        }
        try (BrowserContext aliceAgain = browser.newContext()) {
            login(aliceAgain, "alice");
            assertTrue(titles(aliceAgain).contains(marker), "the principal owns it, in any browser");
        }
    }

    /** Opens the page, follows the redirect to the provider, signs in as {@code user}, and lands on the page. */
    private Page login(BrowserContext context, String user) {
        Page page = context.newPage();
        page.navigate("http://localhost:" + base.getPort() + "/");
        page.waitForURL(url -> url.startsWith("http://127.0.0.1:" + PROVIDER_PORT + "/"));
        page.locator("input[name=username]").fill(user);
        page.locator("input[type=submit]").click();
        page.waitForURL(url -> url.startsWith("http://localhost:" + base.getPort() + "/"));
        page.waitForSelector("html[data-ready=true]");
        return page;
    }

    /** The titles (first messages) of the logged-in user's conversations. */
    private String titles(BrowserContext context) {
        var response = context.request().get("http://localhost:" + base.getPort() + "/api/conversations");
        assertEquals(200, response.status(), response.text());
        try (var reader = Json.createReader(new StringReader(response.text()))) {
            JsonArray list = reader.readArray();
            StringBuilder all = new StringBuilder();
            for (var c : list) {
                all.append(c.asJsonObject().toString());
                var id = c.asJsonObject().getString("id");
                all.append(context.request().get("http://localhost:" + base.getPort() + "/api/conversations/" + id
                        + "/messages").text());
            }
            return all.toString();
        }
    }

    private URI uri(String path) {
        return URI.create(base.toString()).resolve(path);
    }

    private String raw(String request) throws Exception {
        try (Socket socket = new Socket(base.getHost(), base.getPort())) {
            socket.setSoTimeout(5000);
            OutputStream out = socket.getOutputStream();
            out.write(request.getBytes(StandardCharsets.ISO_8859_1));
            out.flush();
            return new BufferedReader(new InputStreamReader(socket.getInputStream(), StandardCharsets.ISO_8859_1))
                    .readLine();
        }
    }
}
