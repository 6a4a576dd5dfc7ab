import { ChunkedQueue } from '../src/kernel/chunkedQueue';
import { settle } from './support/settle';

/** A queue of numbers that records each chunk and what is held. */
function queue(maxChunk: number) {
  const chunks: number[][] = [];
  const held = new Set<number>();
  const q = new ChunkedQueue<number>(
    {
      process: (items) => void chunks.push([...items]),
      hold: (item) => void held.add(item),
      release: (item) => void held.delete(item),
    },
    maxChunk,
    Number.POSITIVE_INFINITY, // no time budget: chunks are exactly maxChunk
    2,
  );
  return { q, chunks, held };
}

const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i);

describe('ChunkedQueue', () => {
  it('processes the first chunk in add(), the rest one chunk per turn, in order', async () => {
    const { q, chunks, held } = queue(4);
    q.add(range(0, 10));
    expect(chunks.flat()).toEqual(range(0, 4));
    expect(held).toEqual(new Set(range(4, 10)));
    expect(q.size).toBe(6);
    await new Promise((resolve) => setImmediate(resolve));
    expect(chunks.flat()).toEqual(range(0, 8));
    await q.idle();
    expect(chunks.flat()).toEqual(range(0, 10));
    expect(held.size).toBe(0);
    expect(q.counts).toEqual({ chunks: 3, largestChunk: 4 });
  });

  it('a batch added while others wait goes behind them', async () => {
    const { q, chunks } = queue(3);
    q.add(range(0, 5));
    q.add(range(5, 7));
    await q.idle();
    expect(chunks.flat()).toEqual(range(0, 7));
  });

  it('processNow takes one waiting item out of turn, and it is not processed again', async () => {
    const { q, chunks, held } = queue(2);
    q.add(range(0, 6));
    expect(q.has(5)).toBe(true);
    q.processNow(5);
    expect(q.has(5)).toBe(false);
    expect(held.has(5)).toBe(false);
    await q.idle();
    expect(chunks.flat()).toEqual([0, 1, 5, 2, 3, 4]);
  });

  it('clear drops what waits, releasing it, and resolves idle()', async () => {
    const { q, chunks, held } = queue(2);
    q.add(range(0, 6));
    const idle = q.idle();
    q.clear();
    await idle;
    await settle();
    expect(chunks.flat()).toEqual([0, 1]);
    expect(held.size).toBe(0);
  });

  it('a chunk that throws on a later turn does not stop the others', async () => {
    const failed: number[][] = [];
    const q = new ChunkedQueue<number>(
      {
        process: (items) => {
          if (items.includes(3)) throw new Error('boom');
        },
        failed: (items) => void failed.push([...items]),
      },
      2,
      Number.POSITIVE_INFINITY,
      2,
    );
    q.add(range(0, 6));
    await q.idle();
    expect(failed).toEqual([[2, 3]]);
  });
});
