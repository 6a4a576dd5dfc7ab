/**
 * Runs the slowest suites first. Jest orders a run by the durations it cached from the last
 * one; a clean clone (CI) has none and falls back to file size, which started the 40–65 s
 * suites last and left one of the two workers idle for the final ~40 s.
 */
const Sequencer = require('@jest/test-sequencer').default;

// Measured in a clean clone on 2 cores (2026-12-07), slowest first.
const SLOW = [
  'verifyDifferential',
  'orchestratorCrash',
  'chaosCluster',
  'packaging',
  'networkFuzzer',
  'autoscalingNats',
  'largeWorkflow',
  'inspectorBrowser',
  'distributedFailover',
  'docsCodeBlocks',
  'cliRun',
];

const rank = (path) => {
  const index = SLOW.findIndex((name) => path.endsWith(`/${name}.test.ts`));
  return index === -1 ? SLOW.length : index;
};

class SlowFirstSequencer extends Sequencer {
  sort(tests) {
    const byJest = super.sort(tests);
    const order = new Map(byJest.map((test, i) => [test, i]));
    return [...byJest].sort((a, b) => rank(a.path) - rank(b.path) || order.get(a) - order.get(b));
  }
}

module.exports = SlowFirstSequencer;
