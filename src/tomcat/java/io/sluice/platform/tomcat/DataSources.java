package io.sluice.platform.tomcat;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import io.sluice.platform.control.Database;
import io.sluice.platform.control.JdbcUrlDataSource;
import javax.sql.DataSource;

/**
 * The application's data source on Tomcat, in place of the {@code @DataSourceDefinition} that a Jakarta EE server
 * reads: HikariCP over {@link JdbcUrlDataSource} (so {@code SLUICE_DB_URL} and the rest, through MicroProfile Config,
 * as everywhere), with the pool's sizes of {@link Database}: at most 32 connections, one kept idle, and a 5 s wait for
 * a free one. Built at the first use, closed at undeploy.
 */
final class DataSources {

    private static volatile HikariDataSource pool;

    private DataSources() {
    }

    /** The pool; built at the first call. */
    static DataSource pool() {
        HikariDataSource p = pool;
        if (p == null) {
            synchronized (DataSources.class) {
                p = pool;
                if (p == null) {
                    HikariConfig config = new HikariConfig();
                    config.setPoolName("sluice");
                    config.setDataSource(new JdbcUrlDataSource());
                    config.setMaximumPoolSize(Database.MAX_POOL_SIZE);
                    config.setMinimumIdle(Database.MIN_POOL_SIZE);
                    config.setConnectionTimeout(Database.POOL_WAIT_MILLIS);
                    // the database is migrated and checked by Database at start-up: do not fail the pool's creation
                    config.setInitializationFailTimeout(-1);
                    p = new HikariDataSource(config);
                    pool = p;
                }
            }
        }
        return p;
    }

    /** Closes the pool, when there is one. */
    static void close() {
        HikariDataSource p = pool;
        pool = null;
        if (p != null) {
            p.close();
        }
    }
}
