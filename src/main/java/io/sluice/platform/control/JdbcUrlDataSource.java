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

/**
 * A {@link DataSource} that connects to whatever database its JDBC URL names, with the drivers that travel
 * inside the WAR (H2 and PostgreSQL). It lets one {@code @DataSourceDefinition} switch between the
 * embedded database and PostgreSQL from {@code SLUICE_DB_URL} alone, without a separate driver-class
 * setting. The server's connection pool sits in front of it; this class only opens physical connections.
 *
 * <p>Properties are set by the container through the JavaBean setters ({@code url}, {@code user},
 * {@code password}). {@link #getConnection()} throws {@link SQLException} when no bundled driver accepts the
 * URL or the database refuses the connection.
 */
public class JdbcUrlDataSource implements DataSource {

    private String url;
    private String user;
    private String password;
    private int loginTimeoutSeconds;
    private PrintWriter logWriter;

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
        return getConnection(user, password);
    }

    @Override
    public Connection getConnection(String username, String pass) throws SQLException {
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
        Driver driver = driverFor(url);
        Connection connection = driver.connect(url, props);
        if (connection == null) {
            throw new SQLException("the JDBC driver " + driver.getClass().getName() + " refused the URL");
        }
        return connection;
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
