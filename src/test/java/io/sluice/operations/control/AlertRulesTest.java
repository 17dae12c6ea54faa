package io.sluice.operations.control;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.File;
import org.junit.jupiter.api.Test;

/**
 * {@code server-config/prometheus/sluice-alerts.yml}: valid rules, and each alert fires on the sample series of
 * {@code sluice-alerts.test.yml} past the seeds' thresholds and stays quiet below them (the heap alarm per node, over
 * pools whose maximum may be -1; the 99 % success and 100 ms mean-interval targets beside the 95 % and 200 ms
 * alarms). Skipped where promtool is not installed.
 */
class AlertRulesTest {

    private static final File DIR = new File("server-config/prometheus");

    @Test
    void rulesAreValid() throws Exception {
        assumeTrue(Promtool.path() != null, Promtool.MISSING);
        Promtool.Result r = Promtool.run(DIR, null, "check", "rules", "sluice-alerts.yml");
        assertEquals(0, r.exitCode(), r.output());
        assertTrue(r.output().contains("SUCCESS: 9 rules found"), r.output());
    }

    @Test
    void alertsFireOnTheSeedsThresholdsOnly() throws Exception {
        assumeTrue(Promtool.path() != null, Promtool.MISSING);
        Promtool.Result r = Promtool.run(DIR, null, "test", "rules", "sluice-alerts.test.yml");
        assertEquals(0, r.exitCode(), r.output());
        assertTrue(r.output().contains("SUCCESS"), r.output());
    }
}
