package io.sluice.identity.boundary;

import jakarta.servlet.ServletContext;
import jakarta.servlet.ServletContextEvent;
import jakarta.servlet.ServletContextListener;
import jakarta.servlet.ServletRegistration;
import jakarta.servlet.ServletSecurityElement;
import jakarta.servlet.HttpConstraintElement;
import jakarta.servlet.annotation.ServletSecurity;
import jakarta.servlet.annotation.WebListener;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.io.InputStream;
import org.eclipse.microprofile.config.ConfigProvider;

/**
 * With OpenID Connect login on ({@link OidcLogin}), registers the two servlets of the browser flow:
 * <ul>
 *   <li>the page ({@code /} and {@code /index.html}), protected for any authenticated user ({@code **}), so that the
 *       container sends an anonymous visitor to the identity provider;</li>
 *   <li>{@value #CALLBACK}, where the provider sends the user back: once Jakarta Security has validated the code,
 *       it redirects to the page.</li>
 * </ul>
 * The API stays unprotected for the container: {@code IdentityFilter} answers 401 to a request without a login, as
 * API.md section 12 asks (a redirect would be useless to {@code fetch} and {@code EventSource}). Without OpenID
 * Connect, nothing is registered and the page is a plain static file.
 */
@WebListener
public class OidcPages implements ServletContextListener {

    /** Path of the redirect URI registered with the identity provider. */
    public static final String CALLBACK = "/oidc/callback";

    @Override
    public void contextInitialized(ServletContextEvent event) {
        if (!OidcActivation.enabled(ConfigProvider.getConfig())) {
            return;
        }
        ServletContext context = event.getServletContext();
        ServletRegistration.Dynamic page = context.addServlet("sluice-page", Page.class);
        page.addMapping("", "/index.html");
        page.setServletSecurity(new ServletSecurityElement(new HttpConstraintElement(
                ServletSecurity.EmptyRoleSemantic.PERMIT, ServletSecurity.TransportGuarantee.NONE, "**")));
        context.addServlet("sluice-oidc-callback", Callback.class).addMapping(CALLBACK);
    }

    /** The page, for logged-in users: the WAR's {@code index.html}. */
    public static class Page extends HttpServlet {
        @Override
        protected void doGet(HttpServletRequest request, HttpServletResponse response) throws IOException {
            response.setContentType("text/html; charset=utf-8");
            response.setHeader("Cache-Control", "no-cache");
            try (InputStream in = getServletContext().getResourceAsStream("/index.html")) {
                in.transferTo(response.getOutputStream());
            }
        }
    }

    /** After a successful login: back to the page (a failed one was answered by the container already). */
    public static class Callback extends HttpServlet {
        @Override
        protected void doGet(HttpServletRequest request, HttpServletResponse response) throws IOException {
            if (request.getUserPrincipal() == null) {
                response.sendError(401);
                return;
            }
            response.sendRedirect(request.getContextPath() + "/");
        }
    }
}
