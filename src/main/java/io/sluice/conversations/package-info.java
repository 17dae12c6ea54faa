/**
 * Conversations and their messages (API.md section 4), owned by the user who created them (section 6).
 * {@code entity} holds the JPA entities (schema by Flyway), {@code control} the transactional store,
 * {@code boundary} {@code /api/conversations} and the JSON views.
 */
package io.sluice.conversations;
