export { DeadLetterHeader, NatsTransport, nats, type NatsTransportOptions, type TransportRejection, type TransportStats } from './natsTransport';
export type { BusPort, Transport } from './transport';
export { LoopbackHub, type DurableDelivery, type LoopbackDeadLetter, type LoopbackHubOptions, type WireFrame } from './loopbackHub';
export { LoopbackTransport, type LoopbackRejection, type LoopbackTransportOptions, type LoopbackTransportStats } from './loopbackTransport';
export { connectNats, NatsOptionsSchema, type NatsOptions } from './natsOptions';
export { COMPRESSION_THRESHOLD_BYTES, EnvelopeHeader, decodeEnvelope, encodeEnvelope, type DecodedFrame, type Envelope, type FrameBinding, type FrameRejection } from './envelope';
export { Subjects, subjectToken, topicTokens } from './subjects';
export { natsServerConfig, type NatsServerConfig, type NatsServerConfigOptions, type NatsUserCredentials, type NatsUserPermissions, type NatsUserRole } from './natsServerConfig';
