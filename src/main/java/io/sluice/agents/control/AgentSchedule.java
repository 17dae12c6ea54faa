package io.sluice.agents.control;

import io.sluice.agents.control.AgentRun.AgentStatus;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The dependency scheduling of a multi-agent run (API.md section 5; README "How a run goes"): which agents start now,
 * and which cannot start because an agent they depend on failed. Pure logic, not thread-safe: its run serializes the
 * calls.
 *
 * <ul>
 *   <li>An agent may start when every agent it depends on has ended and a run slot is free: at most
 *       {@code maxParallel} agents of the run hold one, from the moment they are chosen until they end.</li>
 *   <li>An agent one of whose dependencies ended in {@code error} ends in {@code error} too
 *       ({@code DEPENDENCY_FAILED}) without starting; a dependency that was stopped passes on its text.</li>
 * </ul>
 * Agents are given in run order, each after those it depends on ({@link Roster#select}), so one pass decides every
 * agent whose dependencies are settled, dependency failures cascading through the pass.
 */
final class AgentSchedule {

    /**
     * What to do now.
     *
     * @param failed agents that end in {@code error} because a dependency failed (already marked so)
     * @param launch agents to start now (they hold a run slot and are still {@code WAITING})
     */
    record Step(List<AgentSpec> failed, List<AgentSpec> launch) {
        boolean isEmpty() {
            return failed.isEmpty() && launch.isEmpty();
        }
    }

    private final List<AgentSpec> agents;
    private final Map<String, Integer> index = new HashMap<>();
    private final AgentStatus[] status;
    private final boolean[] holdsSlot;
    private final int maxParallel;
    private int active;

    /**
     * @param agents      in run order, each after its dependencies
     * @param maxParallel run slots, at least 1
     */
    AgentSchedule(List<AgentSpec> agents, int maxParallel) {
        this.agents = List.copyOf(agents);
        this.status = new AgentStatus[agents.size()];
        this.holdsSlot = new boolean[agents.size()];
        this.maxParallel = Math.max(1, maxParallel);
        for (int i = 0; i < agents.size(); i++) {
            index.put(agents.get(i).name(), i);
            status[i] = AgentStatus.WAITING;
        }
    }

    /** Decides the next step; call it after every change. */
    Step step() {
        List<AgentSpec> failed = new ArrayList<>();
        List<AgentSpec> launch = new ArrayList<>();
        for (int i = 0; i < agents.size(); i++) {
            if (status[i] != AgentStatus.WAITING || holdsSlot[i]) {
                continue;
            }
            boolean depsEnded = true;
            boolean depFailed = false;
            for (String dep : agents.get(i).dependsOn()) {
                AgentStatus s = status[index(dep)];
                depsEnded &= s.ended();
                depFailed |= s == AgentStatus.ERROR;
            }
            if (!depsEnded) {
                continue;
            }
            if (depFailed) {
                status[i] = AgentStatus.ERROR;
                failed.add(agents.get(i));
            } else if (active < maxParallel) {
                active++;
                holdsSlot[i] = true;
                launch.add(agents.get(i));
            }
        }
        return new Step(failed, launch);
    }

    /** The agent started generating. */
    void started(String agent) {
        status[index(agent)] = AgentStatus.RUNNING;
    }

    /**
     * The agent ended (its run slot, if any, is free again).
     *
     * @return false when it had ended already (nothing changes)
     */
    boolean ended(String agent, AgentStatus how) {
        int i = index(agent);
        if (status[i].ended()) {
            return false;
        }
        status[i] = how;
        if (holdsSlot[i]) {
            holdsSlot[i] = false;
            active--;
        }
        return true;
    }

    AgentStatus status(String agent) {
        return status[index(agent)];
    }

    /** Whether every agent has ended. */
    boolean allEnded() {
        for (AgentStatus s : status) {
            if (!s.ended()) {
                return false;
            }
        }
        return true;
    }

    /** Whether every agent ended with {@code how}. */
    boolean all(AgentStatus how) {
        for (AgentStatus s : status) {
            if (s != how) {
                return false;
            }
        }
        return true;
    }

    /** Agents running at once, for tests. */
    int active() {
        return active;
    }

    private int index(String agent) {
        Integer i = index.get(agent);
        if (i == null) {
            throw new IllegalArgumentException("the run has no agent named " + agent);
        }
        return i;
    }
}
