package io.sluice.platform.control;

import jakarta.annotation.PostConstruct;
import jakarta.annotation.Resource;
import jakarta.annotation.sql.DataSourceDefinition;
import jakarta.ejb.Singleton;
import jakarta.ejb.Startup;
import jakarta.ejb.TransactionManagement;
import jakarta.ejb.TransactionManagementType;
import java.util.logging.Logger;
import javax.sql.DataSource;
import org.flywaydb.core.Flyway;

/**
 * The application's database: the data source travels inside the WAR, and the schema is brought up to date
 * by Flyway migrations ({@code src/main/resources/db/migration}) before any request is served.
 *
 * <p>Defaults to an H2 file database under {@code ./data} (relative to the server's working directory);
 * {@code SLUICE_DB_URL}, {@code SLUICE_DB_USER} and {@code SLUICE_DB_PASSWORD} switch the same WAR to
 * PostgreSQL (API.md section 1). A migration failure fails the deployment.
 */
@DataSourceDefinition(
        name = Database.JNDI_NAME,
        className = "io.sluice.platform.control.JdbcUrlDataSource",
        url = "${MPCONFIG=sluice.db.url:jdbc:h2:file:./data/sluice;DB_CLOSE_ON_EXIT=FALSE}",
        user = "${MPCONFIG=sluice.db.user:}",
        password = "${MPCONFIG=sluice.db.password:}",
        minPoolSize = 1,
        maxPoolSize = 32,
        properties = {
                "fish.payara.is-connection-validation-required=true",
                "fish.payara.connection-validation-method=meta-data"
        })
@Singleton
@Startup
@TransactionManagement(TransactionManagementType.BEAN)
public class Database {

    /** JNDI name of the data source; the persistence unit {@code sluice} uses it. */
    public static final String JNDI_NAME = "java:app/jdbc/sluice";

    private static final Logger LOG = Logger.getLogger(Database.class.getName());

    @Resource(lookup = JNDI_NAME)
    DataSource dataSource;

    @PostConstruct
    void migrate() {
        var result = Flyway.configure(Database.class.getClassLoader())
                .dataSource(dataSource)
                .locations("classpath:db/migration")
                .load()
                .migrate();
        LOG.info(() -> "database schema at version " + result.targetSchemaVersion + " ("
                + result.migrationsExecuted + " migrations applied now)");
    }
}
