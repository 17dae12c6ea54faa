package io.sluice.platform.boundary;

import jakarta.ws.rs.ApplicationPath;
import jakarta.ws.rs.core.Application;

/** Activates JAX-RS under {@code /api} (API.md section 1); resources and providers are discovered by scanning. */
@ApplicationPath("api")
public class SluiceApplication extends Application {
}
