/**
 * Reading a JSON workflow file does not run the YAML parser unless a problem is to be placed
 * (it took 4.7 s for 10 000 tasks, JSON.parse 79 ms); the token scan that replaces it finds
 * the same duplicate keys and too-deep nesting, escaped or not.
 */
import { scanJsonKeys } from '../src/orchestration/jsonKeyScan';

const parseDocument = jest.fn();
jest.mock('yaml', () => {
  const actual = jest.requireActual<typeof import('yaml')>('yaml');
  return { ...actual, parseDocument: (...args: Parameters<typeof actual.parseDocument>) => (parseDocument(), actual.parseDocument(...args)) };
});
// After the mock: the module under test takes the counting parseDocument.
import { parseWorkflowSource } from '../src/orchestration/workflowFileSource';

beforeEach(() => parseDocument.mockClear());

test('a valid JSON file is read without the YAML parser; placing a problem parses it once', () => {
  const text = JSON.stringify({ tasks: Array.from({ length: 50 }, (_, i) => ({ taskId: `t${i}`, payload: { '{': '",[', n: i } })) }, null, 2);
  const source = parseWorkflowSource(Buffer.from(text), 'json');
  expect(source.problems).toEqual([]);
  expect((source.value as { tasks: unknown[] }).tasks).toHaveLength(50);
  expect(parseDocument).not.toHaveBeenCalled();
  expect(source.locate(['tasks', 3, 'taskId'])).toEqual({ line: 25, column: 17 });
  expect(source.locate(['tasks', 4, 'taskId'])).toEqual({ line: 32, column: 17 });
  expect(parseDocument).toHaveBeenCalledTimes(1);
});

test('duplicate keys: escaped spellings of one key, per object, hostile names, inside arrays', () => {
  const scan = (text: string) => scanJsonKeys(text, 1000).duplicateKeyOffsets;
  expect(scan('{"a":1,"b":{"a":2},"c":[{"a":1},{"a":2}]}')).toEqual([]);
  expect(scan('{"ab":1,"a\\u0062":2}')).toEqual([8]);
  expect(scan('{"__proto__":1,"__proto__":2,"constructor":{"x":"\\"","x":3}}')).toEqual([15, 53]);
  expect(scan('[{"k":"{\\"k\\":1}","k":2}]')).toEqual([18]);
  expect(scan('{"a":"x,\\"a\\":1","b":2}')).toEqual([]);
  const text = '{"tasks": [{}],\n "tasks": []}';
  expect(parseWorkflowSource(Buffer.from(text), 'json').problems).toEqual([{ position: { line: 2, column: 2 }, message: 'duplicate key (only one of them would count)' }]);
});

test('nesting deeper than the limit is found at its bracket, arrays and objects alike', () => {
  expect(scanJsonKeys(`${'['.repeat(5)}${']'.repeat(5)}`, 5).tooDeepOffset).toBe(-1);
  expect(scanJsonKeys(`${'['.repeat(6)}${']'.repeat(6)}`, 5).tooDeepOffset).toBe(5);
  expect(scanJsonKeys(`${'{"a":'.repeat(3)}1}}}`, 2).tooDeepOffset).toBe(10);
  expect(parseWorkflowSource(Buffer.from(`{"tasks":[{"payload":${'['.repeat(100_000)}${']'.repeat(100_000)}}]}`), 'json').problems).toEqual([
    { position: { line: 1, column: 1019 }, message: 'nested too deeply to parse' },
  ]);
  expect(parseDocument).not.toHaveBeenCalled();
});
