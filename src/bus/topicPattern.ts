/**
 * NATS-style topic patterns: tokens separated by `.`, `*` matches exactly one token,
 * `>` (last token only) matches one or more remaining tokens.
 *
 * @example
 * ```ts
 * topicMatches('market.*.price', 'market.btc.price'); // true
 * topicMatches('market.>', 'market.btc.price');       // true
 * ```
 */
export function topicMatches(pattern: string, topic: string): boolean {
  if (pattern === topic) return true;
  if (!isWildcardPattern(pattern)) return false;
  const p = pattern.split('.');
  const t = topic.split('.');
  for (let i = 0; i < p.length; i++) {
    const token = p[i];
    if (token === '>') return i === p.length - 1 && t.length > i;
    if (i >= t.length) return false;
    if (token !== '*' && token !== t[i]) return false;
  }
  return p.length === t.length;
}

/** True when the pattern has a `*` or `>` token. */
export function isWildcardPattern(pattern: string): boolean {
  return pattern.split('.').some((token) => token === '*' || token === '>');
}

/**
 * Who subscribes to what. Exact topics are a map lookup; only wildcard patterns are
 * scanned on publish, so fan-out cost does not grow with the number of exact topics.
 */
export class SubscriptionIndex {
  private readonly exact = new Map<string, Set<string>>();
  private readonly wildcard = new Map<string, Set<string>>();
  private count = 0;

  /** Adds a subscription; returns false when it already existed. */
  add(agentId: string, pattern: string): boolean {
    const index = isWildcardPattern(pattern) ? this.wildcard : this.exact;
    let agents = index.get(pattern);
    if (!agents) index.set(pattern, (agents = new Set()));
    if (agents.has(agentId)) return false;
    agents.add(agentId);
    this.count++;
    return true;
  }

  /** Removes a subscription; returns false when there was none. */
  remove(agentId: string, pattern: string): boolean {
    const index = isWildcardPattern(pattern) ? this.wildcard : this.exact;
    const agents = index.get(pattern);
    if (!agents?.delete(agentId)) return false;
    if (agents.size === 0) index.delete(pattern);
    this.count--;
    return true;
  }

  /** Every agent subscribed to a pattern matching `topic`, each once, in subscription order. */
  subscribersOf(topic: string): string[] {
    const exact = this.exact.get(topic);
    if (this.wildcard.size === 0) return exact ? [...exact] : [];
    const result = new Set<string>(exact);
    for (const [pattern, agents] of this.wildcard) {
      if (topicMatches(pattern, topic)) for (const agent of agents) result.add(agent);
    }
    return [...result];
  }

  /** Number of (agent, pattern) subscriptions. */
  get size(): number {
    return this.count;
  }
}
