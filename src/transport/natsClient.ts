/**
 * The NATS client packages, each loaded when NeuroFlux first uses it (connecting, opening a
 * stream or a KV bucket, making credentials), not by `require('neuroflux')`: together ~70
 * modules (issue #16: the package loads at most 150). They are regular dependencies, so
 * `neuroflux host --nats` works after `npm i neuroflux`. Kept once loaded: frame headers
 * are made per message.
 * @internal
 */
/* eslint-disable @typescript-eslint/no-require-imports */
import { loadOptional } from '../optionalDependency';

/** Loads `packageName` on the first call (a typed MissingDependencyError when it is not installed), then keeps it. */
function once<T>(packageName: string, load: () => T): () => T {
  let loaded: T | undefined;
  return () => (loaded ??= loadOptional(packageName, 'NATS (neuroflux/nats)', load));
}

/** `@nats-io/transport-node`: `connect`, headers, `nanos`. @internal */
export const natsCore = once('@nats-io/transport-node', () => require('@nats-io/transport-node') as typeof import('@nats-io/transport-node'));

/** `@nats-io/jetstream`: streams, consumers and their policies. @internal */
export const natsJetStream = once('@nats-io/jetstream', () => require('@nats-io/jetstream') as typeof import('@nats-io/jetstream'));

/** `@nats-io/kv`: key-value buckets (the NATS KV snapshot store). @internal */
export const natsKv = once('@nats-io/kv', () => require('@nats-io/kv') as typeof import('@nats-io/kv'));

/** `@nats-io/nkeys`: user key pairs for `natsServerConfig`. @internal */
export const natsKeys = once('@nats-io/nkeys', () => require('@nats-io/nkeys') as typeof import('@nats-io/nkeys'));
