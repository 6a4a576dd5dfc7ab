/**
 * `neuroflux/store`: where a runtime's state survives a restart — snapshot stores (memory,
 * file, NATS KV), the lease that elects one writer, and the batching snapshot writer.
 *
 * @example
 * ```ts
 * import { createNeuroFlux } from 'neuroflux';
 * import { FileSnapshotStore } from 'neuroflux/store';
 * const nf = createNeuroFlux({ orchestrator: { store: new FileSnapshotStore({ directory: './state' }) } });
 * ```
 * @module neuroflux/store
 * @packageDocumentation
 */
export { MemorySnapshotStore, RevisionMismatchError, SnapshotKeySchema, type SnapshotStore, type StoredSnapshot } from '../store/index';
export { FileSnapshotStore, type FileSnapshotStoreOptions } from '../store/index';
export { NatsKvSnapshotStore, type NatsKvSnapshotStoreOptions } from '../store/index';
export { Lease, type LeaseClaim, type LeaseOptions, type LeaseRecord } from '../store/index';
export { SnapshotWriter, type SnapshotWriterOptions, type SnapshotWriterProblem, type SnapshotWriterStats } from '../store/index';
export type { ArchiveRef, SnapshotArchiveOptions } from '../store/index';
export type { RecordsDelta, SnapshotRecordsOptions, StoredRecord } from '../store/index';
