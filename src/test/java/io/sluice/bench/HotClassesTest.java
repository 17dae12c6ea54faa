package io.sluice.bench;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** Which class names of a profile go into the hot-class list. */
class HotClassesTest {

    @Test
    void namedLibraryClassesAreKeptAndRunTimeMadeOnesAndSluicesOwnAreNot() {
        assertTrue(HotClasses.keep("jdk.internal.net.http.Http1Exchange"));
        assertTrue(HotClasses.keep("org.eclipse.yasson.internal.MappingContext$1"));
        assertFalse(HotClasses.keep("io.sluice.streams.control.Stream"), "EagerClassLoading loads these anyway");
        assertFalse(HotClasses.keep("java.lang.invoke.LambdaForm$MH/0x0000000801234"));
        assertFalse(HotClasses.keep("io.foo.Bar$$Lambda$123/0x0000"));
        assertFalse(HotClasses.keep("jdk.internal.reflect.GeneratedMethodAccessor71"));
        assertFalse(HotClasses.keep("io.sluice.chat.control.Chats$Proxy$_$$_WeldClientProxy"));
        assertFalse(HotClasses.keep("jdk.proxy3.$Proxy91"));
    }
}
