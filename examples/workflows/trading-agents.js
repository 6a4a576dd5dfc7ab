// An executor module for workflow files: `executor: ./trading-agents.js#executeTrade`.
'use strict';

/** Fills the order the risk task approved. */
exports.executeTrade = async (task, { dependencyResults }) => {
  const approvals = Object.values(dependencyResults);
  return { status: 'filled', symbol: task.payload.symbol, inputs: approvals.length };
};
