package io.sluice.identity.boundary;

import io.sluice.platform.control.Ids;
import io.sluice.identity.control.Owners;
import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.annotation.WebFilter;
import jakarta.servlet.http.Cookie;
import jakarta.servlet.http.HttpFilter;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.util.UUID;

/**
 * Gives every request an owner before any resource runs (API.md section 6): the container's authenticated
 * principal when there is one, otherwise an anonymous identity kept in the {@value Owners#COOKIE} cookie
 * (HttpOnly, SameSite=Lax, one year), issued on the first response that lacks it. The cookie value is a
 * random UUID (122 random bits), so it cannot be guessed; a malformed value is replaced.
 */
@WebFilter(urlPatterns = "/*", asyncSupported = true)
public class IdentityFilter extends HttpFilter {

    private static final int ONE_YEAR_SECONDS = 365 * 24 * 3600;

    @Override
    protected void doFilter(HttpServletRequest request, HttpServletResponse response, FilterChain chain)
            throws IOException, ServletException {
        String owner;
        if (request.getUserPrincipal() != null) {
            owner = Owners.forPrincipal(request.getUserPrincipal().getName());
        } else {
            String anonymous = Owners.anonymousIdFrom(request.getCookies());
            if (anonymous == null) {
                anonymous = Ids.newId();
                Cookie cookie = new Cookie(Owners.COOKIE, anonymous);
                cookie.setHttpOnly(true);
                cookie.setPath(request.getContextPath().isEmpty() ? "/" : request.getContextPath());
                cookie.setMaxAge(ONE_YEAR_SECONDS);
                cookie.setSecure(request.isSecure());
                cookie.setAttribute("SameSite", "Lax");
                response.addCookie(cookie);
            }
            owner = Owners.forAnonymous(anonymous);
        }
        request.setAttribute(Owners.ATTRIBUTE, owner);
        chain.doFilter(request, response);
    }
}
