/** One agent host a {@link HostLauncher} started. */
export interface LaunchedHost {
  readonly hostId: string;
  /** The capability it was started for. */
  readonly capability: string;
  /** The agents it hosts (known once it is running; empty while it starts). */
  readonly agentIds: readonly string[];
  /** `starting` until it hosts its agents, `stopping` from the stop request until it exited. */
  readonly state: 'starting' | 'running' | 'stopping';
  /** The host's process id, when it is a local process. */
  readonly pid?: number;
}

/**
 * Starts and stops agent hosts for a {@link ScalingManager}: local processes
 * ({@link LocalHostLauncher}), containers, machines... A started host announces its agents
 * to the orchestrators of its namespace by heartbeat, as every `AgentHost` does.
 *
 * @example
 * ```ts
 * const launcher: HostLauncher = {
 *   start: async (capability) => ({ hostId: await myScheduler.run(capability), capability, agentIds: [], state: 'starting' }),
 *   stop: (hostId) => myScheduler.drainAndStop(hostId),
 *   hosts: () => myScheduler.list(),
 *   close: () => myScheduler.stopAll(),
 * };
 * ```
 */
export interface HostLauncher {
  /** Starts one host with agents of `capability`; resolves once it runs (or rejects). */
  start(capability: string): Promise<LaunchedHost>;
  /** Stops a host gracefully (it finishes the tasks it runs); resolves once it is gone. */
  stop(hostId: string): Promise<void>;
  /** The hosts started and not yet gone. */
  hosts(): readonly LaunchedHost[];
  /** Stops every host it started and waits for them (no process outlives it). */
  close(): Promise<void>;
}
