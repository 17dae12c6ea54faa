package io.sluice.it;

import java.io.File;
import java.net.URL;
import org.jboss.arquillian.container.test.api.Deployment;
import org.jboss.arquillian.container.test.api.RunAsClient;
import org.jboss.arquillian.junit5.ArquillianExtension;
import org.jboss.arquillian.test.api.ArquillianResource;
import org.jboss.shrinkwrap.api.ShrinkWrap;
import org.jboss.shrinkwrap.api.spec.WebArchive;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * What every black-box suite shares: the real {@code target/sluice.war} deployed as it is, at the context root, on
 * Payara Micro
 * (one server boot per suite class), driven from outside as a client, against a {@link FakeUpstream} on the
 * port the deployed server is configured with ({@code SLUICE_UPSTREAM_URL} in pom.xml). Tests start once the server's
 * {@code /health/ready} is UP (it warms itself up first, issue 22), as a load balancer would send it traffic.
 */
@ExtendWith(ArquillianExtension.class)
@RunAsClient
abstract class BlackBoxTest {

    /** SLUICE_RESUME_GRACE_SECONDS of the deployed server (pom.xml), in ms. */
    static final long RESUME_GRACE_MS = 3000;

    static FakeUpstream upstream;

    @ArquillianResource
    URL base;

    @Deployment(testable = false)
    static WebArchive war() {
        File war = new File(System.getProperty("sluice.war", "target/sluice.war"));
        // ROOT.war: Payara Micro deploys it at the context root "/", as the README's run does (--contextroot /),
        // where Payara adds its /health, /openapi and /metrics servlets to the application (OperationsIT)
        return ShrinkWrap.create(WebArchive.class, "ROOT.war").merge(ShrinkWrap.createFromZipFile(WebArchive.class, war));
    }

    @BeforeAll
    static void startUpstream() throws Exception {
        upstream = new FakeUpstream(Integer.getInteger("sluice.it.upstream.port", 18089));
    }

    @BeforeEach
    void awaitReady() throws Exception {
        Readiness.await(base);
    }

    @AfterAll
    static void stopUpstream() {
        upstream.close();
    }
}
