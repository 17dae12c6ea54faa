/**
 * Who is asking (API.md section 6): the container's principal, or an anonymous identity kept in an
 * HttpOnly, SameSite=Lax cookie. Every other component stores and compares the owner key it yields.
 */
package io.sluice.identity;
