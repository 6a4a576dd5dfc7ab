/**
 * The NATS client packages, each loaded when NeuroFlux first uses it (connecting, opening a
 * stream or a KV bucket, making credentials), not by `require('neuroflux')`: together ~70
 * modules (issue #16: the package loads at most 150). They are regular dependencies, so
 * `neuroflux host --nats` works after `npm i neuroflux`. Kept once loaded: frame headers
 * are made per message.
 * @internal
 */
/* eslint-disable @typescript-eslint/no-require-imports */

function once<T>(load: () => T): () => T {
  let loaded: T | undefined;
  return () => (loaded ??= load());
}

/** `@nats-io/transport-node`: `connect`, headers, `nanos`. @internal */
export const natsCore = once(() => require('@nats-io/transport-node') as typeof import('@nats-io/transport-node'));

/** `@nats-io/jetstream`: streams, consumers and their policies. @internal */
export const natsJetStream = once(() => require('@nats-io/jetstream') as typeof import('@nats-io/jetstream'));

/** `@nats-io/kv`: key-value buckets (the NATS KV snapshot store). @internal */
export const natsKv = once(() => require('@nats-io/kv') as typeof import('@nats-io/kv'));

/** `@nats-io/nkeys`: user key pairs for `natsServerConfig`. @internal */
export const natsKeys = once(() => require('@nats-io/nkeys') as typeof import('@nats-io/nkeys'));
