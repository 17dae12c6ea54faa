package io.sluice.platform.boundary;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** The hot-class list (issue 22): what it holds, and how a missing class or list is taken. */
class EagerClassLoadingTest {

    @Test
    void theShippedListNamesClassesTheHotPathNeedsAndThoseNotFoundHereAreSkipped() {
        int[] counts = EagerClassLoading.loadHotClasses(getClass().getClassLoader());
        // outside Payara, its own classes are not found; the JDK's HTTP client and the libraries of the WAR are
        assertTrue(counts[0] > 150, "loaded " + counts[0] + ", not found " + counts[1]);
        assertTrue(counts[0] + counts[1] > 600, "the list has the named classes of the profile");
    }

    @Test
    void commentsAndBlankLinesAreSkippedAndNoListLoadsNothing() {
        ClassLoader list = new ClassLoader(getClass().getClassLoader()) {
            @Override
            public InputStream getResourceAsStream(String name) {
                return name.equals(EagerClassLoading.HOT_CLASSES) ? new ByteArrayInputStream(
                        "# comment\n\njava.net.http.HttpClient\n  no.such.Clazz  \n".getBytes(StandardCharsets.UTF_8))
                        : null;
            }
        };
        assertArrayEquals(new int[] {1, 1}, EagerClassLoading.loadHotClasses(list));
        ClassLoader none = new ClassLoader(null) {
            @Override
            public InputStream getResourceAsStream(String name) {
                return null;
            }
        };
        assertEquals(0, EagerClassLoading.loadHotClasses(none)[0]);
    }
}
