/**
 * Workflow file errors as their author meets them: unknown keys at every level with the
 * key meant, file:line:column and path for YAML and JSON, every problem at once, cycles by
 * task, missing executor modules in one line, hostile files, and the JSON Schema editors read.
 */
import fc from 'fast-check';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildCli } from '../src/cli/main';
import { workflowJsonSchema } from '../src/orchestration/workflowFile';
import { WorkflowFileError } from '../src/orchestration/workflowFileError';
import { jsonSyntaxErrorOffset } from '../src/orchestration/jsonSyntaxError';
import { loadWorkflowFile, resolveWorkflowExecutors } from '../src/orchestration/workflowFileLoader';
import { ValidationError, createNeuroFlux } from '../src';
import { verifyWorkflow } from '../src/verify/verifyWorkflow';
import { printable, summaryLines } from '../src/cli/workflowRun';
import type { TaskRecord } from '../src/orchestration/taskTypes';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'neuroflux-wferr-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, content: string | Buffer | object): string {
  const path = join(dir, name);
  writeFileSync(path, typeof content === 'string' || Buffer.isBuffer(content) ? content : JSON.stringify(content));
  return path;
}

/** The lines of the WorkflowFileError loading `path` throws. */
function problemsOf(path: string): string[] {
  try {
    loadWorkflowFile(path);
  } catch (error) {
    expect(error).toBeInstanceOf(WorkflowFileError);
    expect(error).toBeInstanceOf(ValidationError);
    return [...(error as WorkflowFileError).lines];
  }
  throw new Error(`${path} loaded without error`);
}

/** Runs a command in process; what it wrote on stdout and on stderr. */
async function cliOutput(args: string[]): Promise<{ out: string; err: string }> {
  let out = '';
  let err = '';
  await buildCli({ write: (t) => (out += t), isTTY: false }, { errorOutput: { write: (t) => (err += t), isTTY: false } }).parseAsync(['node', 'neuroflux', ...args]);
  return { out, err };
}

async function cli(args: string[]): Promise<string> {
  return (await cliOutput(args)).out;
}

describe('unknown keys are errors at every level, with the key meant', () => {
  test.each([
    ['the file', { task: [{ taskId: 'a' }], tasks: [{ taskId: 'a' }] }, 'task', 'task: unknown key; did you mean `tasks`?'],
    [
      'an agent',
      { agents: [{ agentId: 'w', capability: ['x'], capabilities: ['x'] }], tasks: [{}] },
      'capability',
      'agents[0].capability: unknown key; did you mean `capabilities`?',
    ],
    [
      'an executor',
      { agents: [{ agentId: 'w', capabilities: ['x'], executor: { simulate: {} } }], tasks: [{}] },
      'simulate',
      'agents[0].executor.simulate: unknown key; did you mean `simulated`?',
    ],
    [
      'a simulated executor',
      { agents: [{ agentId: 'w', capabilities: ['x'], executor: { simulated: { SuccessRate: 1 } } }], tasks: [{}] },
      'SuccessRate',
      'agents[0].executor.simulated.SuccessRate: unknown key; did you mean `successRate`?',
    ],
    [
      'its duration',
      { agents: [{ agentId: 'w', capabilities: ['x'], executor: { simulated: { durationMs: { jiter: 1 } } } }], tasks: [{}] },
      'jiter',
      'agents[0].executor.simulated.durationMs.jiter: unknown key; did you mean `jitter`?',
    ],
    ['a task', { tasks: [{ taskId: 't0' }, { taskId: 't1', dependson: ['t0'] }] }, 'dependson', 'tasks[1].dependson: unknown key; did you mean `dependencies`?'],
    ['a task (retries)', { tasks: [{ taskId: 't0', retries: 3 }] }, 'retries', 'tasks[0].retries: unknown key; did you mean `retryPolicy`?'],
    ['a task (capabilities)', { tasks: [{ capabilities: ['x'] }] }, 'capabilities', 'tasks[0].capabilities: unknown key; did you mean `requiredCapabilities`?'],
    ['a retry policy', { tasks: [{ retryPolicy: { maxRetry: 1 } }] }, 'maxRetry', 'tasks[0].retryPolicy.maxRetry: unknown key; did you mean `maxRetries`?'],
  ])('in %s', (_where, content, key, expected) => {
    const path = file(`unknown-${Math.random().toString(36).slice(2)}.json`, content);
    // One line of JSON: the column is where the key's quote is.
    const column = JSON.stringify(content).indexOf(`"${key}"`) + 1;
    expect(problemsOf(path)).toEqual([`${path}:1:${column} ${expected}`]);
  });

  test('a key close to nothing lists the allowed keys', () => {
    const path = file('colour.json', { tasks: [{ colour: 'red' }] });
    expect(problemsOf(path)).toEqual([
      `${path}:1:12 tasks[0].colour: unknown key (allowed: taskId, name, description, taskType, priority, payload, dependencies, requiredCapabilities, estimatedDuration, timeoutSeconds, retryPolicy, onDependencyFailure, balancer)`,
    ]);
  });

  test('the typo of the issue does not run: `run` rejects it, `verify` says invalid (exit 2), not verified', async () => {
    const path = file('typo.yaml', 'tasks:\n  - taskId: t0\n  - taskId: t1\n    dependson: [t0]\n    retries: 3\n');
    await expect(cli(['run', path])).rejects.toThrow(
      `${path}:4:5 tasks[1].dependson: unknown key; did you mean \`dependencies\`?\n${path}:5:5 tasks[1].retries: unknown key; did you mean \`retryPolicy\`?`,
    );
    const before = process.exitCode;
    const { out, err } = await cliOutput(['verify', path]);
    expect(process.exitCode).toBe(2);
    process.exitCode = before;
    expect(out).toBe('');
    expect(err).toContain(`${path}:4:5 tasks[1].dependson: unknown key`);
  });

  test('programs verifying a workflow get the same strictness', () => {
    expect(() => verifyWorkflow({ tasks: [{ taskId: 'a' }, { taskId: 'b', dependson: ['a'] } as never] })).toThrow(ValidationError);
  });
});

describe('every error names the file, the line and column and the path', () => {
  test('YAML: every problem of the file at once, in file order', () => {
    const path = file(
      'flow.yaml',
      [
        'agents:', //                                  1
        '  - agentId: w', //                           2
        '    capabilities: [""]', //                   3
        '    maxConcurrentTasks: 0', //                4
        'tasks:', //                                   5
        '  - taskId: a', //                            6
        '    priority: urgent', //                     7
        '  - taskId: b', //                            8
        '    retryPolicy:', //                         9
        '      maxRetries: -1', //                     10
        '      backoffFactor: 0.5', //                 11
        '    timeoutSeconds: "soon"', //               12
      ].join('\n'),
    );
    expect(problemsOf(path)).toEqual([
      `${path}:3:20 agents[0].capabilities[0]: expected a non-empty string`,
      `${path}:4:25 agents[0].maxConcurrentTasks: expected a positive integer, got 0`,
      `${path}:7:15 tasks[0].priority: expected one of "low", "medium", "high", "critical"; got "urgent"`,
      `${path}:10:19 tasks[1].retryPolicy.maxRetries: expected a non-negative integer, got -1`,
      `${path}:11:22 tasks[1].retryPolicy.backoffFactor: expected a number ≥ 1, got 0.5`,
      `${path}:12:21 tasks[1].timeoutSeconds: expected a number, got "soon"`,
    ]);
  });

  test('an agent offering no capabilities is accepted, as registerAgent and verifyWorkflow accept it', () => {
    const path = file('bare.yaml', 'agents:\n  - agentId: w\n    capabilities: []\ntasks:\n  - taskId: a\n');
    expect(loadWorkflowFile(path).agents?.[0]?.capabilities).toEqual([]);
  });

  test('JSON, laid out on several lines', () => {
    const path = file('flow.json', '{\n  "tasks": [\n    { "taskId": "a" },\n    {\n      "taskId": "b",\n      "retryPolicy": { "maxRetries": 1.5 }\n    }\n  ]\n}\n');
    expect(problemsOf(path)).toEqual([`${path}:6:38 tasks[1].retryPolicy.maxRetries: expected an integer, got 1.5`]);
  });

  test('a missing field points at the object that lacks it; syntax errors at their place', () => {
    expect(problemsOf(file('agentless.yaml', 'agents:\n  - capabilities: [x]\ntasks: [{}]\n'))).toEqual([
      expect.stringMatching(/agentless\.yaml:2:5 agents\[0\]\.agentId: missing: expected a string$/),
    ]);
    expect(problemsOf(file('notasks.json', '{}'))).toEqual([expect.stringMatching(/notasks\.json:1:1 tasks: missing: expected a list$/)]);
    expect(problemsOf(file('comma.json', '{\n  "tasks": [\n    {"taskId": "a",}\n  ]\n}'))).toEqual([expect.stringMatching(/comma\.json:3:20: not valid JSON: /)]);
    expect(problemsOf(file('indent.yaml', 'tasks:\n  - taskId: a\n   bad: [\n'))[0]).toMatch(/indent\.yaml:3:\d+: /);
    expect(problemsOf(join(dir, 'absent.yaml'))).toEqual([expect.stringMatching(/absent\.yaml: cannot read it: .*ENOENT/)]);
  });

  test('a dependency cycle names the file and the tasks, in run as in verify', async () => {
    const path = file(
      'cycle.yaml',
      'tasks:\n  - taskId: a\n    dependencies: [c]\n  - taskId: b\n    dependencies: [a]\n  - taskId: c\n    dependencies: [b]\n  - taskId: d\n    dependencies: [e]\n',
    );
    const expected = [`${path}:3:19 tasks[0].dependencies: dependency cycle: a → c → b → a (each waits for the next)`, `${path}:9:20 tasks[3].dependencies[0]: unknown task 'e'`];
    expect(problemsOf(path)).toEqual(expected);
    await expect(cli(['run', path])).rejects.toThrow(expected.join('\n'));
  });

  test('run: a task no agent of the file can take is named at its capabilities (unless the agents are remote)', async () => {
    const path = file(
      'nocap.yaml',
      'agents:\n  - {agentId: w, capabilities: [x], executor: {simulated: {}}}\ntasks:\n  - taskId: a\n    requiredCapabilities: [x]\n  - taskId: b\n    requiredCapabilities: [x, gpu]\n',
    );
    await expect(cli(['run', path])).rejects.toThrow(
      `${path}:7:27 tasks[1].requiredCapabilities: no agent of the file has all of [x, gpu] (they offer [x]; agents of other processes need --nats and --remote-agents)`,
    );
  });

  test('JSON syntax errors at their line and column, also where JSON.parse names no position', () => {
    const cases: [string, string][] = [
      ['// a comment\n{"tasks": [{}]}', "1:1: not valid JSON: Unexpected token '/'"],
      ['{\n  "tasks": [\n    {"taskId": "a",}\n  ]\n}', '3:20: not valid JSON: Expected double-quoted property name'],
      ['{"tasks": [{}]}\n}', '2:1: not valid JSON: Unexpected non-whitespace character after JSON'],
      ['{"tasks": [\n', '2:1: not valid JSON: Unexpected end of JSON input'],
      ['{"tasks": [{"taskId": "a\tb"}]}', '1:25: not valid JSON: Bad control character in string literal'],
    ];
    for (const [text, expected] of cases) {
      const path = file(`syntax-${Math.random().toString(36).slice(2)}.json`, text);
      expect(problemsOf(path)).toEqual([`${path}:${expected}`]);
    }
  });

  test.each([1, 2, 3])('the JSON syntax scanner agrees with JSON.parse on valid and broken JSON (seed %i)', (seed) => {
    const parses = (text: string) => {
      try {
        JSON.parse(text);
        return true;
      } catch {
        return false;
      }
    };
    fc.assert(
      fc.property(fc.json(), fc.nat(), fc.constantFrom('', ',', '}', ']', '"', ':', '1', ' ', 'x', '\\', '{', '['), (json, at, inserted) => {
        const cut = at % (json.length + 1);
        const text = json.slice(0, cut) + inserted + json.slice(cut + (inserted === '' ? 1 : 0));
        const offset = jsonSyntaxErrorOffset(text);
        expect(offset === -1).toBe(parses(text));
        expect(offset).toBeLessThanOrEqual(text.length);
      }),
      { seed, numRuns: 1000 },
    );
  });

  test('duplicate task and agent ids, each at the second one', () => {
    const path = file('dups.yaml', 'agents:\n  - {agentId: w, capabilities: [x]}\n  - {agentId: w, capabilities: [y]}\ntasks:\n  - taskId: a\n  - taskId: a\n');
    expect(problemsOf(path)).toEqual([
      `${path}:3:15 agents[1].agentId: duplicate agent id 'w' (also agents[0])`,
      `${path}:6:13 tasks[1].taskId: duplicate task id 'a' (also tasks[0])`,
    ]);
  });

  test('the error lists at most 50 problems and counts the rest', () => {
    const path = file('many.json', { tasks: Array.from({ length: 60 }, (_, i) => ({ taskId: `t${i}`, priority: 'urgent' })) });
    const lines = problemsOf(path);
    expect(lines).toHaveLength(51);
    expect(lines[50]).toBe(`${path}: … and 10 more problems`);
  });
});

describe('executor modules', () => {
  test('a missing module is one line naming the module, the agent and its tasks, not a require stack', async () => {
    const path = file(
      'nomodule.yaml',
      'agents:\n  - agentId: w\n    capabilities: [x]\n    executor: ./nope.js#run\n  - agentId: v\n    capabilities: [x]\n    executor: ./gone.js#run\ntasks: [{}]\n',
    );
    const error = await cli(['run', path]).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(WorkflowFileError);
    expect((error as Error).message).toBe(
      `${path}:4:15 agents[0].executor: module './nope.js' of agent 'w' not found (looked for ${join(dir, 'nope.js')}); it would run task tasks[0]\n` +
        `${path}:7:15 agents[1].executor: module './gone.js' of agent 'v' not found (looked for ${join(dir, 'gone.js')}); it would run task tasks[0]`,
    );
  });

  test('a module that fails to load (its own missing dependency) is one line too', () => {
    file('broken.js', "require('./not-there');\nexports.run = () => 1;\n");
    const path = file('brokenmodule.json', { agents: [{ agentId: 'w', capabilities: ['x'], executor: './broken.js#run' }], tasks: [{}] });
    const nf = createNeuroFlux();
    const workflow = loadWorkflowFile(path);
    expect(() => resolveWorkflowExecutors(workflow, path, { clock: nf.clock, seed: 1 })).toThrow(WorkflowFileError);
    try {
      resolveWorkflowExecutors(workflow, path, { clock: nf.clock, seed: 1 });
    } catch (error) {
      const message = (error as Error).message;
      expect(message.startsWith(`${path}:1:`)).toBe(true);
      // Node's message or jest's (its own module loader), first line only.
      expect(message).toMatch(/ agents\[0\]\.executor: cannot load module '\.\/broken\.js' of agent 'w': (Error: )?Cannot find module '\.\/not-there'/);
      expect(message).not.toContain('\n');
    }
  });
});

describe('executor modules: every problem at once', () => {
  const resolveAll = (path: string, trustedDirs: string[] = []) => {
    const nf = createNeuroFlux();
    try {
      resolveWorkflowExecutors(loadWorkflowFile(path), path, { clock: nf.clock, seed: 1, trustedDirs });
      return undefined;
    } catch (error) {
      return error;
    }
  };

  test('two modules outside the folder: both named, each with its tasks; none loaded', () => {
    const outside = mkdtempSync(join(tmpdir(), 'nf-outside-'));
    try {
      writeFileSync(join(outside, 'a.js'), 'globalThis.nfLoadedA = true; exports.run = () => 1;\n');
      writeFileSync(join(outside, 'b.js'), 'globalThis.nfLoadedB = true; exports.run = () => 1;\n');
      const path = file('twoOutside.json', {
        agents: [
          { agentId: 'a', capabilities: ['x'], executor: `${join(outside, 'a.js')}#run` },
          { agentId: 'b', capabilities: ['y'], executor: `${join(outside, 'b.js')}#run` },
        ],
        tasks: [
          { taskId: 'tx', requiredCapabilities: ['x'] },
          { taskId: 'ty', requiredCapabilities: ['y'] },
        ],
      });
      const error = resolveAll(path);
      expect(error).toBeInstanceOf(WorkflowFileError);
      const lines = (error as Error).message.split('\n');
      expect(lines).toEqual([
        expect.stringMatching(/ agents\[0\]\.executor: module '.*a\.js' of agent 'a' \(.*\) is outside .*; it would run task 'tx'; .*--allow-executors-outside/),
        expect.stringMatching(/ agents\[1\]\.executor: module '.*b\.js' of agent 'b' \(.*\) is outside .*; it would run task 'ty'; .*--allow-executors-outside/),
      ]);
      const loaded = globalThis as { nfLoadedA?: boolean; nfLoadedB?: boolean };
      expect([loaded.nfLoadedA, loaded.nfLoadedB]).toEqual([undefined, undefined]);
    } finally {
      rmSync(outside, { recursive: true, force: true });
    }
  });

  test('a missing module, one that fails to load and one without the export: three lines of one error', () => {
    file('throws.js', "throw new Error('broken at load');\n");
    file('noexport.js', 'exports.other = () => 1;\n');
    const path = file('threeProblems.json', {
      agents: [
        { agentId: 'm', capabilities: ['x'], executor: './absent.js#run' },
        { agentId: 'l', capabilities: ['x'], executor: './throws.js#run' },
        { agentId: 'e', capabilities: ['x'], executor: './noexport.js#run' },
      ],
      tasks: [{ taskId: 't', requiredCapabilities: ['x'] }],
    });
    const error = resolveAll(path);
    expect(error).toBeInstanceOf(WorkflowFileError);
    expect((error as Error).message.split('\n')).toEqual([
      expect.stringMatching(/ agents\[0\]\.executor: module '\.\/absent\.js' of agent 'm' not found .*; it would run task 't'$/),
      expect.stringMatching(/ agents\[1\]\.executor: cannot load module '\.\/throws\.js' of agent 'l': .*broken at load; it would run task 't'$/),
      expect.stringMatching(/ agents\[2\]\.executor: module '\.\/noexport\.js' of agent 'e' has no function export 'run'; it would run task 't'$/),
    ]);
  });
});

describe('hostile files', () => {
  test('YAML tags that are not JSON: !!binary bytes and an unknown tag are refused where they are', () => {
    const binary = file('binary.yaml', 'tasks:\n  - taskId: a\n    payload: !!binary aGVsbG8=\n  - taskId: b\n    payload: {deep: [1, !!binary aGk=]}\n');
    expect(problemsOf(binary)).toEqual([
      expect.stringMatching(/binary\.yaml:3:23: binary data \(`!!binary`\) is not JSON/),
      expect.stringMatching(/binary\.yaml:5:34: binary data \(`!!binary`\) is not JSON/),
    ]);
    const unknown = file('unknownTag.yaml', 'tasks:\n  - taskId: b\n    payload: !foo {d: 1}\n');
    expect(problemsOf(unknown)).toEqual([expect.stringMatching(/unknownTag\.yaml:3:14: unknown tag/)]);
  });

  test('control characters in ids are refused, naming the field; what the terminal shows of an id is escaped anyway', () => {
    const yaml = file(
      'escapes.yaml',
      'agents: [{agentId: "w\\ex", capabilities: [x]}]\ntasks:\n  - taskId: "a\\e[2J\\nfake line"\n    requiredCapabilities: [x]\n    dependencies: ["b\\x07"]\n',
    );
    expect(problemsOf(yaml)).toEqual([
      expect.stringMatching(/escapes\.yaml:1:\d+ agents\[0\]\.agentId: control characters are not allowed in an id, got "w\\u001bx"$/),
      expect.stringMatching(/escapes\.yaml:3:\d+ tasks\[0\]\.taskId: control characters are not allowed in an id, got "a\\u001b\[2J\\nfake line"$/),
      expect.stringMatching(/escapes\.yaml:5:\d+ tasks\[0\]\.dependencies\[0\]: control characters are not allowed in an id, got "b\\u0007"$/),
    ]);
    // Ids that reach the summary another way (a stored state, the API) are quoted, not sent raw.
    const [line] = summaryLines(
      [{ taskId: 'a\u001b[2J\nfake', status: 'failed', assignedAgent: 'w\u0007', retryCount: 0, reason: 'failed', error: 'two\nlines', result: null } as unknown as TaskRecord],
      1,
    );
    expect(line).not.toMatch(/[\u0000-\u001f]/);
    expect(line).toContain('"a\\u001b[2J\\nfake"');
    expect(printable('plain-id')).toBe('plain-id');
  });

  test('__proto__ and constructor keys are unknown keys and pollute nothing', () => {
    const json = file('proto.json', '{"__proto__": {"polluted": 1}, "tasks": [{"taskId": "a", "__proto__": {"x": 1}, "constructor": {"prototype": {"p": 1}}}]}');
    expect(problemsOf(json)).toEqual([
      expect.stringMatching(/proto\.json:1:2 __proto__: unknown key/),
      expect.stringMatching(/proto\.json:1:\d+ tasks\[0\]\.__proto__: unknown key/),
      expect.stringMatching(/proto\.json:1:\d+ tasks\[0\]\.constructor: unknown key/),
    ]);
    const yaml = file('proto.yaml', '__proto__: {polluted: 1}\ntasks:\n  - taskId: a\n    __proto__: {x: 1}\n');
    expect(problemsOf(yaml)).toEqual([
      expect.stringMatching(/proto\.yaml:1:1 __proto__: unknown key/),
      expect.stringMatching(/proto\.yaml:4:5 tasks\[0\]\.__proto__: unknown key/),
    ]);
    const probe = {} as Record<string, unknown>;
    expect([probe['polluted'], probe['x'], probe['p']]).toEqual([undefined, undefined, undefined]);
  });

  test('huge numbers: beyond safe integers and beyond doubles', () => {
    const path = file('huge.yaml', 'tasks:\n  - retryPolicy: {maxRetries: 123456789012345678901234567890, initialDelay: 1e400}\n    estimatedDuration: -1e400\n');
    expect(problemsOf(path)).toEqual([
      `${path}:2:31 tasks[0].retryPolicy.maxRetries: expected an integer ≤ 9007199254740991, got 1.2345678901234568e+29`,
      `${path}:2:77 tasks[0].retryPolicy.initialDelay: expected a finite number, got Infinity`,
      `${path}:3:24 tasks[0].estimatedDuration: expected a finite number, got -Infinity`,
    ]);
  });

  test('deep nesting: too deep to parse, or a payload deeper than JSON values may be (path cut short)', () => {
    expect(problemsOf(file('deep.json', `{"tasks":[{"payload":${'['.repeat(5000)}${']'.repeat(5000)}}]}`))).toEqual([
      expect.stringMatching(/deep\.json:1:\d+: nested too deeply to parse$/),
    ]);
    expect(problemsOf(file('deep.yaml', `tasks:\n  - payload: ${'['.repeat(5000)}${']'.repeat(5000)}\n`))).toEqual([
      expect.stringMatching(/deep\.yaml:2:\d+: nested too deeply to parse$/),
    ]);
    const [line] = problemsOf(file('deep-payload.json', `{"tasks":[{"payload":${'['.repeat(600)}${']'.repeat(600)}}]}`));
    expect(line).toMatch(/deep-payload\.json:1:\d+ tasks\[0\]\.payload(\[0\])+…\(\d+ more levels\): is nested deeper than 512 levels$/);
  });

  test('binary and control characters, empty files, several YAML documents, duplicate keys', () => {
    expect(problemsOf(file('binary.json', Buffer.from([0x7b, 0xff, 0xfe, 0x00, 0x01])))).toEqual([
      expect.stringMatching(/binary\.json: not UTF-8 text \(is it a binary file\?\)$/),
    ]);
    expect(problemsOf(file('nul.yaml', 'tasks:\n  - taskId: a\u0000\n'))).toEqual([expect.stringMatching(/nul\.yaml:2:14: control character U\+0000/)]);
    for (const [name, text] of [
      ['empty.yaml', ''],
      ['blank.json', '  \n\n'],
      ['bom.json', '\ufeff'],
    ]) {
      expect(problemsOf(file(name as string, text as string))).toEqual([expect.stringMatching(/:1:1: the file is empty: expected an object with `tasks`$/)]);
    }
    expect(problemsOf(file('two.yaml', 'tasks: [{}]\n---\ntasks: [{}]\n'))).toEqual([expect.stringMatching(/two\.yaml:2:1: a second YAML document/)]);
    expect(problemsOf(file('dup.json', '{"tasks": [{}],\n "tasks": []}'))).toEqual([expect.stringMatching(/dup\.json:2:2: duplicate key/)]);
    expect(problemsOf(file('list.json', '[]'))).toEqual([expect.stringMatching(/list\.json:1:1: expected an object \(a mapping of keys\), got a list$/)]);
  });

  test('a YAML bomb of aliases is refused before it expands', () => {
    const bomb = ['a: &a [x,x,x,x,x,x,x,x,x]', ...'bcdefgh'.split('').map((k, i) => `${k}: &${k} [${Array(9).fill(`*${'abcdefgh'[i]}`).join(',')}]`), 'tasks: [*h]'].join('\n');
    expect(problemsOf(file('bomb.yaml', bomb))).toEqual([expect.stringMatching(/bomb\.yaml:1:1: more than 100 aliases expanded \(a YAML alias bomb\?\)$/)]);
  });
});

describe('neuroflux schema', () => {
  test('every object forbids other keys and every field is described (walked)', async () => {
    const schema = JSON.parse(await cli(['schema'])) as Record<string, unknown>;
    expect(schema).toEqual(workflowJsonSchema());
    const objects: string[] = [];
    const walk = (node: unknown, at: string): void => {
      if (node === null || typeof node !== 'object') return;
      if (Array.isArray(node)) return node.forEach((n, i) => walk(n, `${at}[${i}]`));
      const s = node as Record<string, unknown>;
      if (s['type'] === 'object' || s['properties'] !== undefined) {
        objects.push(at);
        expect({ at, additionalProperties: s['additionalProperties'] }).toEqual({ at, additionalProperties: false });
        for (const [key, property] of Object.entries(s['properties'] as Record<string, Record<string, unknown>>)) {
          expect({ at: `${at}.${key}`, described: typeof property['description'] === 'string' && property['description'].length > 0 }).toEqual({
            at: `${at}.${key}`,
            described: true,
          });
        }
      }
      for (const [key, value] of Object.entries(s)) walk(value, `${at}/${key}`);
    };
    walk(schema, '#');
    // The file, an agent, a simulated executor and its parts, a task, a retry policy.
    expect(objects.length).toBeGreaterThanOrEqual(7);
    expect(JSON.stringify(schema)).toContain('"dependencies":{');
  });
});
