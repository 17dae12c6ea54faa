package io.sluice.providers.control;

/**
 * What a request to a model is for, as far as routing cares (API.md section 10): which {@link ModelType} of route it
 * gets when it names no model. {@code io.sluice.streams.control.StreamType} implements it, so that providers need
 * not know the stream types.
 */
public interface Workload {

    /** A chat turn, a completion, a one-shot generation or an agent: an {@code instruct} route by default. */
    Workload CHAT = () -> ModelType.INSTRUCT;

    /** @return the type of route that serves this workload when its request names no model */
    ModelType defaultModelType();
}
