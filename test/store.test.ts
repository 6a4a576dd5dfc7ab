import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SimulatedClock } from 'xstate';
import { FileSnapshotStore, Lease, MemorySnapshotStore } from '../src/store';
import { snapshotStoreContract } from './support/storeContract';

describe('MemorySnapshotStore', () => {
  snapshotStoreContract(async () => new MemorySnapshotStore());
});

describe('FileSnapshotStore', () => {
  const dirs: string[] = [];
  afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));
  const freshDir = () => {
    const d = mkdtempSync(join(tmpdir(), 'nf-store-'));
    dirs.push(d);
    return join(d, 'state');
  };
  snapshotStoreContract(async () => new FileSnapshotStore({ directory: freshDir() }));

  test('a second store on the same directory sees the state (a restarted process)', async () => {
    const directory = freshDir();
    const first = new FileSnapshotStore({ directory });
    const revision = await first.save('orchestrator.main', { n: 1 });
    const second = new FileSnapshotStore({ directory });
    expect(await second.load('orchestrator.main')).toEqual({ value: { n: 1 }, revision });
  });

  test('writes go through a temporary file renamed into place; no temporary file is left', async () => {
    const directory = freshDir();
    const store = new FileSnapshotStore({ directory });
    await Promise.all(Array.from({ length: 20 }, (_, i) => store.save('k', { i, pad: 'x'.repeat(10_000) })));
    expect(readdirSync(directory)).toEqual(['k.json']);
    expect((await store.load('k'))?.revision).toBe(20);
  });

  test('a corrupt file is reported as a validation error, not a crash', async () => {
    const directory = freshDir();
    const store = new FileSnapshotStore({ directory });
    await store.save('k', 1);
    writeFileSync(join(directory, 'k.json'), '{"revision": "x"');
    await expect(store.load('k')).rejects.toMatchObject({ code: 'ERR_VALIDATION' });
  });
});

describe('Lease (memory store, simulated clock)', () => {
  test('one holder at a time; another takes over only after expiry; renewal extends', async () => {
    const clock = new SimulatedClock();
    const store = new MemorySnapshotStore();
    const a = new Lease({ store, clock, key: 'leader', holder: 'a', ttlMs: 5000 });
    const b = new Lease({ store, clock, key: 'leader', holder: 'b', ttlMs: 5000 });
    expect(await a.tryAcquire()).toBe(true);
    expect(await b.tryAcquire()).toBe(false);
    clock.increment(4000);
    expect(await a.tryAcquire()).toBe(true); // renewal
    clock.increment(4000);
    expect(await b.tryAcquire()).toBe(false);
    expect(await b.currentHolder()).toBe('a');
    clock.increment(1001);
    expect(await b.currentHolder()).toBeUndefined();
    expect(await b.tryAcquire()).toBe(true);
    expect(await a.tryAcquire()).toBe(false);
    await b.release();
    expect(await a.tryAcquire()).toBe(true);
  });

  test('two contenders for a free lease: exactly one wins', async () => {
    const store = new MemorySnapshotStore();
    const leases = ['a', 'b', 'c'].map((holder) => new Lease({ store, key: 'leader', holder }));
    const won = await Promise.all(leases.map((l) => l.tryAcquire()));
    expect(won.filter(Boolean)).toHaveLength(1);
  });
});
