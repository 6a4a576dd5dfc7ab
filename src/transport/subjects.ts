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

/** The subjects of one namespace. */
export class Subjects {
  readonly prefix: string;
  constructor(readonly namespace: string) {
    this.prefix = `nf.${namespace}`;
  }
  /** Core (at-most-once) direct messages, requests and responses to an agent. */
  agent(agentId: string, priority: MessagePriority): string {
    return `${this.prefix}.agent.${subjectToken(agentId)}.${priority}`;
  }
  agentAll(agentId: string): string {
    return `${this.prefix}.agent.${subjectToken(agentId)}.*`;
  }
  /** JetStream (at-least-once) commands and notifications to an agent. */
  durable(agentId: string, priority: MessagePriority): string {
    return `${this.prefix}.durable.agent.${subjectToken(agentId)}.${priority}`;
  }
  durableAll(): string {
    return `${this.prefix}.durable.>`;
  }
  topic(topic: string): string {
    return `${this.prefix}.topic.${topicTokens(topic)}`;
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
