/**
 * `neuroflux/nats`: NeuroFlux across processes over NATS — the transport, the connection
 * options, the server configuration helper, and the frame format. The NATS client packages
 * load when a transport first connects, not when this module is imported.
 *
 * @example
 * ```ts
 * import { createNeuroFlux } from 'neuroflux';
 * import { nats } from 'neuroflux/nats';
 * const nf = createNeuroFlux({ transport: nats({ servers: 'nats://127.0.0.1:4222' }) });
 * ```
 * @module neuroflux/nats
 * @packageDocumentation
 */
export { DeadLetterHeader, NatsTransport, nats, type NatsTransportOptions, type TransportRejection, type TransportStats } from '../transport/index';
export { connectNats, NatsOptionsSchema, type NatsOptions } from '../transport/index';
export { natsServerConfig, type NatsServerConfig, type NatsServerConfigOptions, type NatsUserCredentials, type NatsUserPermissions, type NatsUserRole } from '../transport/index';
export {
  COMPRESSION_THRESHOLD_BYTES,
  EnvelopeHeader,
  decodeEnvelope,
  encodeEnvelope,
  type DecodedFrame,
  type Envelope,
  type FrameBinding,
  type FrameRejection,
} from '../transport/index';
export { Subjects, subjectToken, topicTokens } from '../transport/index';
export { NatsKvSnapshotStore, type NatsKvSnapshotStoreOptions } from '../store/index';
