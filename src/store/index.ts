export { MemorySnapshotStore, RevisionMismatchError, SnapshotKeySchema, type SnapshotStore, type StoredSnapshot } from './snapshotStore';
export { FileSnapshotStore, type FileSnapshotStoreOptions } from './fileSnapshotStore';
export { NatsKvSnapshotStore, type NatsKvSnapshotStoreOptions } from './natsKvSnapshotStore';
export { Lease, type LeaseClaim, type LeaseOptions, type LeaseRecord } from './lease';
export { SnapshotWriter, type SnapshotWriterOptions, type SnapshotWriterProblem, type SnapshotWriterStats } from './snapshotWriter';
export type { ArchiveRef, SnapshotArchiveOptions } from './snapshotArchive';
export type { RecordsDelta, SnapshotRecordsOptions, StoredRecord } from './snapshotRecords';
