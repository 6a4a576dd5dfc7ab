/**
 * The indexed scheduler (src/kernel/indexedScheduler.ts) against XState's own, in one run:
 * one actor arms N pending delayed events (what an embedded NeuroFlux's system or a runtime
 * actor with many timers does), then stops (cancelAll). Prints schedule+stop operations per
 * second and the ratio indexed / XState; the ratio, not the absolute numbers, is the claim.
 * Before the amortised prune (review RA finding 2) the ratio was 0.05 at N = 2 000 and
 * N = 8 000 did not finish in 300 s.
 */
import { createActor, raise, setup, SimulatedClock } from 'xstate';
import { indexScheduledEvents } from '../src/kernel/indexedScheduler';
import { bestOf, fmt } from './measure';

const arming = setup({}).createMachine({ on: { ARM: { actions: raise({ type: 'LATER' }, { delay: 60_000 }) } } });

function armAndStop(n: number, indexed: boolean): void {
  const actor = createActor(arming, { clock: new SimulatedClock() });
  if (indexed) indexScheduledEvents(actor.system);
  actor.start();
  for (let i = 0; i < n; i++) actor.send({ type: 'ARM' });
  actor.stop();
}

async function main(): Promise<void> {
  for (const n of [2_000, 8_000]) {
    const xstate = await bestOf(3, n, () => armAndStop(n, false));
    const indexed = await bestOf(3, n, () => armAndStop(n, true));
    console.log(`${fmt(n)} pending timers on one actor: XState ${fmt(xstate)} ops/s, indexed ${fmt(indexed)} ops/s, ratio ${(indexed / xstate).toFixed(2)}`);
  }
}

void main();
