import type { MessagePriority } from '../bus/message';

const SAFE_TOKEN = /^[A-Za-z0-9_-]+$/;

/**
 * One subject token for an id: kept as is when it is letters, digits, `-` or `_`,
 * otherwise `~` + base64url of it (ids with dots, spaces or wildcards stay one token).
 *
 * @example
 * ```ts
 * subjectToken('risk_agent'); // 'risk_agent'
 * subjectToken('a.b');        // '~YS5i'
 * ```
 */
export function subjectToken(id: string): string {
  return SAFE_TOKEN.test(id) ? id : `~${Buffer.from(id, 'utf8').toString('base64url')}`;
}

/** A bus topic or pattern as subject tokens: `*` and `>` stay NATS wildcards, odd tokens are encoded. */
export function topicTokens(topic: string): string {
  return topic
    .split('.')
    .map((t) => (t === '*' || t === '>' || (/^[^\s*>~]+$/.test(t) && t.length > 0) ? t : `~${Buffer.from(t, 'utf8').toString('base64url')}`))
    .join('.');
}

/**
 * True when some subject matches both NATS subjects (`*` one token, `>` one or more at the
 * end): a connection subscribed to both receives such a message once per subscription.
 * @internal
 *
 * @example
 * ```ts
 * subjectsOverlap('nf.p.topic.market.>', 'nf.p.topic.market.btc'); // true
 * subjectsOverlap('nf.p.topic.market.>', 'nf.p.topic.market');     // false
 * ```
 */
export function subjectsOverlap(a: string, b: string): boolean {
  const x = a.split('.');
  const y = b.split('.');
  for (let i = 0; ; i++) {
    const p = x[i];
    const q = y[i];
    if (p === undefined || q === undefined) return p === q;
    if (p === '>' || q === '>') return true;
    if (p !== '*' && q !== '*' && p !== q) return false;
  }
}

/** Distinct topics and agent ids whose subjects are kept; past that the memo starts over. */
const MEMO_SIZE = 4096;

/** Looks `key` up in `memo`, computing and keeping it on a miss (bounded: cleared when full). */
function memoized(memo: Map<string, string>, key: string, compute: (key: string) => string): string {
  let value = memo.get(key);
  if (value === undefined) {
    if (memo.size >= MEMO_SIZE) memo.clear();
    memo.set(key, (value = compute(key)));
  }
  return value;
}

/**
 * The subjects of one namespace. Topic and id tokens are memoized: encoding them (a split,
 * a regular expression per token, a join) is paid once per topic or agent, not per message.
 */
export class Subjects {
  readonly prefix: string;
  private readonly topicSubjects = new Map<string, string>();
  private readonly agentTokens = new Map<string, string>();
  constructor(readonly namespace: string) {
    this.prefix = `nf.${namespace}`;
  }
  private readonly topicSubject = (topic: string): string => `${this.prefix}.topic.${topicTokens(topic)}`;
  private token(agentId: string): string {
    return memoized(this.agentTokens, agentId, subjectToken);
  }
  /** Core (at-most-once) direct messages, requests and responses to an agent. */
  agent(agentId: string, priority: MessagePriority): string {
    return `${this.prefix}.agent.${this.token(agentId)}.${priority}`;
  }
  agentAll(agentId: string): string {
    return `${this.prefix}.agent.${this.token(agentId)}.*`;
  }
  /** JetStream (at-least-once) commands and notifications to an agent. */
  durable(agentId: string, priority: MessagePriority): string {
    return `${this.prefix}.durable.agent.${this.token(agentId)}.${priority}`;
  }
  durableAll(): string {
    return `${this.prefix}.durable.>`;
  }
  topic(topic: string): string {
    return memoized(this.topicSubjects, topic, this.topicSubject);
  }
  broadcast(): string {
    return `${this.prefix}.broadcast`;
  }
  /** Where responses to this process's requests come back. */
  inbox(instanceId: string): string {
    return `${this.prefix}.inbox.${instanceId}`;
  }
  /** The JetStream stream holding durable traffic. */
  stream(): string {
    return `NF_${this.namespace.replace(/-/g, '_')}`;
  }
  /** Durable messages given up (handler failures past the cap, delivery cap, expiry): JetStream stream {@link dlqStream}. */
  dlq(): string {
    return `${this.prefix}.dlq`;
  }
  /** The JetStream stream (limits retention) holding the dead-letter subject. */
  dlqStream(): string {
    return `${this.stream()}_DLQ`;
  }
  /** Server advisories of durable messages that reached the delivery cap unacknowledged. */
  maxDeliveriesAdvisories(): string {
    return `$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES.${this.stream()}.*`;
  }
}
