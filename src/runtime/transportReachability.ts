import type { Subscription } from 'rxjs';
import type { AnyActorRef } from 'xstate';
import type { CommunicationBus } from '../bus/communicationBus';
import type { ConnectionStatusEvent } from '../kernel/connectionStatus';
import { attachRuntimeLink, RuntimeLinkState } from '../kernel/runtimeLink';
import type { Transport } from '../transport/transport';

/**
 * Tells the agents of a runtime whether the rest of the cluster can reach them, from its
 * transport's `status$` (issue #16: a runtime whose NATS connection dropped kept showing its
 * agents `online`). `reconnecting` sends every agent actor `LINK_LOST` (it reads `offline`,
 * `linkDown` in its context), `ready` sends `LINK_RESTORED` (back to `online`, or to `paused`
 * when its orchestrator paused it, unless its owner switched it off). An agent registered while
 * the link is down starts offline. `error` alone changes nothing: NATS reports a disconnect as
 * `error` then `reconnecting`, and a refused publish or a consumer problem is not a lost link.
 * A stream that ends while the runtime runs (the transport was closed under it) leaves the
 * agents offline for good.
 *
 * What offline means here (docs/distributed.md): the cluster cannot reach the agent. This
 * process still delivers its own messages to it and its own orchestrator still assigns it
 * tasks, which need no network; `setOnline(false)` remains the way to stop that.
 *
 * The same state is the runtime's {@link RuntimeLinkState} (`src/kernel/runtimeLink.ts`,
 * attached to its root): the orchestrator's host registry reads it to freeze host liveness
 * while it cannot hear heartbeats (review finding: a 5 s NATS restart presumed every host dead
 * and ran their running tasks twice).
 * @internal
 */
export class TransportReachability {
  private linkDown = false;
  private disposed = false;
  /** What the rest of the runtime reads of the link (the orchestrator's host liveness). */
  private readonly link = new RuntimeLinkState();
  private readonly subscription: Subscription | undefined;
  private readonly stopWatchingAgents: (() => void) | undefined;

  constructor(
    private readonly bus: CommunicationBus,
    transport: Transport,
  ) {
    // A transport written before `status$` existed: nothing to read, the agents keep `online`.
    const status$ = transport.status$;
    if (status$ === undefined) return;
    attachRuntimeLink(bus.root, this.link);
    this.stopWatchingAgents = bus.onAgentRegistered((handle) => {
      if (this.linkDown) tell(handle.actor, 'LINK_LOST');
    });
    this.subscription = status$.subscribe({
      next: (event: ConnectionStatusEvent) => {
        if (event.kind === 'reconnecting') this.changed(true);
        else if (event.kind === 'ready') this.changed(false);
      },
      complete: () => this.changed(true),
      error: () => this.changed(true),
    });
  }

  /** Stops listening (the runtime stops: closing the transport then is no lost link). */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.subscription?.unsubscribe();
    this.stopWatchingAgents?.();
    this.link.clear();
  }

  private changed(down: boolean): void {
    // Repeated `reconnecting` (one per attempt on NATS) or `ready` tell the agents nothing new.
    if (this.disposed || down === this.linkDown) return;
    this.linkDown = down;
    this.link.set(down);
    const type = down ? 'LINK_LOST' : 'LINK_RESTORED';
    for (const agentId of this.bus.getAgentIds()) {
      const actor = this.bus.getAgent(agentId)?.actor;
      if (actor) tell(actor, type);
    }
  }
}

/** Sends the event to an agent actor that still runs (an unregistered agent's has stopped). */
function tell(actor: AnyActorRef, type: 'LINK_LOST' | 'LINK_RESTORED'): void {
  if ((actor.getSnapshot() as { status: string }).status === 'active') actor.send({ type });
}
