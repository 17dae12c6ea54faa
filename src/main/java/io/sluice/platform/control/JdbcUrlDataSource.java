package io.sluice.platform.control;

import java.io.PrintWriter;
import java.sql.Connection;
import java.sql.Driver;
import java.sql.SQLException;
import java.sql.SQLFeatureNotSupportedException;
import java.util.Properties;
import java.util.ServiceLoader;
import java.util.logging.Logger;
import javax.sql.DataSource;
import org.eclipse.microprofile.config.Config;
import org.eclipse.microprofile.config.ConfigProvider;

/**
 * A {@link DataSource} that connects to whatever database its JDBC URL names, with the drivers that travel
 * inside the WAR (H2 and PostgreSQL). It lets one {@code @DataSourceDefinition} switch between the
 * embedded database and PostgreSQL from {@code SLUICE_DB_URL} alone, without a separate driver-class
 * setting. The server's connection pool sits in front of it; this class only opens physical connections.
 *
 * <p>Its settings come from MicroProfile Config ({@code sluice.db.url}, {@code sluice.db.user},
 * {@code sluice.db.password}, that is {@code SLUICE_DB_URL} and so on, API.md section 1), read the first time a
 * connection is opened, so that the {@code @DataSourceDefinition} holds no vendor expression and deploys unchanged on
 * Payara and WildFly (issue 14). Without {@code sluice.db.url} the URL is the embedded H2 database
 * {@link #DEFAULT_URL}. A container may still set them through the JavaBean setters ({@code url}, {@code user},
 * {@code password}); what it sets wins. {@link #getConnection()} throws {@link SQLException} when no bundled driver
 * accepts the URL or the database refuses the connection. PostgreSQL connections get connect, login and read timeouts
 * ({@link #timeouts}); the pool's own wait for a free connection is bounded in {@link Database}.
 */
public class JdbcUrlDataSource implements DataSource {

    /** The database's network timeouts when {@code SLUICE_DB_TIMEOUT_SECONDS} is unset: 10 s. */
    static final int DEFAULT_TIMEOUT_SECONDS = 10;

    /** The embedded database when {@code SLUICE_DB_URL} is unset: an H2 file under {@code ./data}. */
    public static final String DEFAULT_URL = "jdbc:h2:file:./data/sluice;DB_CLOSE_ON_EXIT=FALSE";

    private String configPrefix = "sluice.db";
    private String url;
    private String user;
    private String password;
    private int loginTimeoutSeconds;
    private PrintWriter logWriter;

    /** The MicroProfile Config prefix of the settings: {@code sluice.db} (so {@code sluice.db.url}, ...). */
    public String getConfigPrefix() {
        return configPrefix;
    }

    /**
     * Sets the MicroProfile Config prefix of the settings ({@code <prefix>.url}, {@code .user}, {@code .password}).
     * {@code Database} sets it as a data-source property; WildFly also needs at least one such property.
     */
    public void setConfigPrefix(String configPrefix) {
        this.configPrefix = configPrefix;
    }

    public String getUrl() {
        return url;
    }

    public void setUrl(String url) {
        this.url = url;
    }

    /** Alias of {@link #setUrl(String)}: some pools use the upper-case bean name. */
    public void setURL(String url) {
        this.url = url;
    }

    public String getURL() {
        return url;
    }

    public String getUser() {
        return user;
    }

    public void setUser(String user) {
        this.user = user;
    }

    public String getPassword() {
        return password;
    }

    public void setPassword(String password) {
        this.password = password;
    }

    @Override
    public Connection getConnection() throws SQLException {
        configure();
        return getConnection(user, password);
    }

    /** Fills what the container did not set from MicroProfile Config, once; an empty value counts as unset. */
    private synchronized void configure() {
        if (url != null && !url.isBlank()) {
            return;
        }
        Config config = ConfigProvider.getConfig(JdbcUrlDataSource.class.getClassLoader());
        url = config.getOptionalValue(configPrefix + ".url", String.class).filter(v -> !v.isBlank())
                .orElse(DEFAULT_URL);
        if (user == null || user.isEmpty()) {
            user = config.getOptionalValue(configPrefix + ".user", String.class).orElse(null);
        }
        if (password == null || password.isEmpty()) {
            password = config.getOptionalValue(configPrefix + ".password", String.class).orElse(null);
        }
    }

    @Override
    public Connection getConnection(String username, String pass) throws SQLException {
        configure();
        if (url == null || url.isBlank()) {
            throw new SQLException("no JDBC URL configured (SLUICE_DB_URL)");
        }
        Properties props = new Properties();
        if (username != null && !username.isEmpty()) {
            props.setProperty("user", username);
        }
        if (pass != null && !pass.isEmpty()) {
            props.setProperty("password", pass);
        }
        if (url.startsWith("jdbc:postgresql:")) {
            timeouts(url, props, loginTimeoutSeconds > 0 ? loginTimeoutSeconds : timeoutSeconds());
        }
        Driver driver = driverFor(url);
        Connection connection = driver.connect(url, props);
        if (connection == null) {
            throw new SQLException("the JDBC driver " + driver.getClass().getName() + " refused the URL");
        }
        return connection;
    }

    /**
     * PostgreSQL's network timeouts, each unless the URL sets it (issue 11, rule 2): without them a database whose
     * packets are dropped (a blackhole, not a refusal) holds a connection attempt or a save for minutes. Connect and
     * login wait at most {@code seconds}; a read waits at most {@code seconds} too (Sluice's statements are short
     * single-row writes and keyed reads); TCP keep-alive is on. Properties of the PostgreSQL JDBC driver, in seconds.
     */
    static void timeouts(String url, Properties props, int seconds) {
        String value = Integer.toString(seconds);
        for (String name : new String[] {"connectTimeout", "loginTimeout", "socketTimeout"}) {
            if (!url.contains(name + "=")) {
                props.setProperty(name, value);
            }
        }
        if (!url.contains("tcpKeepAlive=")) {
            props.setProperty("tcpKeepAlive", "true");
        }
    }

    /**
     * {@code SLUICE_DB_TIMEOUT_SECONDS} (environment, or the {@code sluice.db.timeout.seconds} system property):
     * the database's network timeouts in seconds, 10 when unset or not a positive integer.
     */
    static int timeoutSeconds() {
        String value = System.getProperty("sluice.db.timeout.seconds", System.getenv("SLUICE_DB_TIMEOUT_SECONDS"));
        try {
            int seconds = value == null ? 0 : Integer.parseInt(value.strip());
            return seconds > 0 ? seconds : DEFAULT_TIMEOUT_SECONDS;
        } catch (NumberFormatException e) {
            return DEFAULT_TIMEOUT_SECONDS;
        }
    }

    private static Driver driverFor(String url) throws SQLException {
        for (Driver driver : ServiceLoader.load(Driver.class, JdbcUrlDataSource.class.getClassLoader())) {
            if (driver.acceptsURL(url)) {
                return driver;
            }
        }
        String scheme = url.length() > 20 ? url.substring(0, 20) + "…" : url;
        throw new SQLException("no bundled JDBC driver accepts a URL starting with " + scheme
                + " (supported: jdbc:h2:, jdbc:postgresql:)");
    }

    @Override
    public PrintWriter getLogWriter() {
        return logWriter;
    }

    @Override
    public void setLogWriter(PrintWriter out) {
        this.logWriter = out;
    }

    @Override
    public void setLoginTimeout(int seconds) {
        this.loginTimeoutSeconds = seconds;
    }

    @Override
    public int getLoginTimeout() {
        return loginTimeoutSeconds;
    }

    @Override
    public Logger getParentLogger() throws SQLFeatureNotSupportedException {
        throw new SQLFeatureNotSupportedException();
    }

    @Override
    public <T> T unwrap(Class<T> iface) throws SQLException {
        if (iface.isInstance(this)) {
            return iface.cast(this);
        }
        throw new SQLException("not a wrapper of " + iface.getName());
    }

    @Override
    public boolean isWrapperFor(Class<?> iface) {
        return iface.isInstance(this);
    }
}
