/**
 * Errors as RFC 9457 {@code application/problem+json} (API.md section 7): client errors are thrown as
 * {@code io.sluice.platform.control.ProblemException}s before anything changes (the exception lives in
 * {@code platform}, the lowest component, so that every component may throw it) and mapped once, portably, by the
 * exception mappers here ({@code ProblemExceptionMapper}, {@code WebApplicationExceptionMapper},
 * {@code UnexpectedExceptionMapper}) and {@code Problems}, which filters use. May import only {@code platform}.
 */
package io.sluice.problems;
