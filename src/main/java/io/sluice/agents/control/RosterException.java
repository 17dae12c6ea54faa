package io.sluice.agents.control;

/** An invalid roster or agent selection; the message says what is wrong and is shown to the client. */
public class RosterException extends IllegalArgumentException {

    public RosterException(String message) {
        super(message);
    }
}
