/**
 * What Sluice needs on Tomcat 11 that a Jakarta EE server gives it, in one place (issue 14). Only the {@code tomcat}
 * Maven profile compiles this package, into {@code target/sluice-tomcat.war}; the code elsewhere is the same on every
 * server.
 *
 * <ul>
 *   <li><b>Enterprise beans</b> ({@link io.sluice.platform.tomcat.TomcatPlatform}, a CDI extension): the
 *       {@code @Stateless} and {@code @Singleton} classes become {@code @ApplicationScoped} CDI beans; the stateless
 *       ones get container-managed transactions back from {@link io.sluice.platform.tomcat.TransactionInterceptor};
 *       the {@code @Startup} ones are created when the application starts, the database first.</li>
 *   <li><b>Transactions and the persistence context</b> ({@link io.sluice.platform.tomcat.Jpa}): a resource-local
 *       EclipseLink {@code EntityManagerFactory} on the pooled data source; a {@code @PersistenceContext} field gets a
 *       proxy of the current transaction's {@code EntityManager}.</li>
 *   <li><b>Resources</b>: a {@code @Resource DataSource} gets the HikariCP pool over {@code JdbcUrlDataSource}
 *       ({@link io.sluice.platform.tomcat.DataSources}); a {@code @Resource ManagedThreadFactory} gets
 *       {@link io.sluice.platform.tomcat.TomcatThreads}.</li>
 *   <li><b>WebSocket endpoints</b> get CDI injection through {@link io.sluice.platform.tomcat.TomcatEndpoints}.</li>
 *   <li><b>Health</b>: {@link io.sluice.platform.tomcat.HealthServlet} serves SmallRye Health's report at
 *       {@code /health/live} and {@code /health/ready} (API.md section 11).</li>
 * </ul>
 */
package io.sluice.platform.tomcat;
