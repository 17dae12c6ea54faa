/**
 * Errors as RFC 9457 {@code application/problem+json} (API.md section 7): client errors are thrown as
 * {@code ProblemException}s before anything changes and mapped once, portably, by exception mappers.
 */
package io.sluice.problems;
