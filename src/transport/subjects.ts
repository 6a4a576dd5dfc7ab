import type { MessagePriority } from '../bus/message';
import { UNIDENTIFIED_ORIGIN as UNIDENTIFIED } from '../bus/messageOrigin';

const SAFE_TOKEN = /^[A-Za-z0-9_-]+$/;

/** A lone surrogate: a UTF-16 high surrogate not followed by a low one, or a low one not preceded by a high one. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/**
 * One encoded token: `~` + base64url of the UTF-8 bytes for a well-formed string; for an
 * ill-formed one (a lone surrogate, which UTF-8 turns into U+FFFD: `'job\uD800'`,
 * `'job\uDBFF'` and `'job\uFFFD'` would share a token) `~~` + base64url of its UTF-16LE
 * code units, which keeps every surrogate. base64url never holds `~`, so the two forms
 * never meet, and the tokens of well-formed ids are those running peers already use.
 */
function encodedToken(text: string): string {
  return LONE_SURROGATE.test(text) ? `~~${Buffer.from(text, 'utf16le').toString('base64url')}` : `~${Buffer.from(text, 'utf8').toString('base64url')}`;
}

/**
 * One subject token for an id: kept as is when it is letters, digits, `-` or `_`,
 * otherwise `~` + base64url of it (ids with dots, spaces or wildcards stay one token); an
 * ill-formed id (a lone surrogate) gets `~~` + base64url of its UTF-16 code units, a token
 * of its own.
 *
 * @example
 * ```ts
 * subjectToken('risk_agent'); // 'risk_agent'
 * subjectToken('a.b');        // '~YS5i'
 * subjectToken('a\uD800');    // '~~YQAA2A'
 * ```
 */
export function subjectToken(id: string): string {
  return SAFE_TOKEN.test(id) ? id : encodedToken(id);
}

/**
 * The id a {@link subjectToken} stands for.
 *
 * @example
 * ```ts
 * idOfSubjectToken('~YS5i'); // 'a.b'
 * ```
 */
export function idOfSubjectToken(token: string): string {
  if (token.startsWith('~~')) return Buffer.from(token.slice(2), 'base64url').toString('utf16le');
  return token.startsWith('~') ? Buffer.from(token.slice(1), 'base64url').toString('utf8') : token;
}

/** A bus topic or pattern as subject tokens: `*` and `>` stay NATS wildcards, odd tokens (and ill-formed ones) are encoded. */
export function topicTokens(topic: string): string {
  return topic
    .split('.')
    .map((t) => (t === '*' || t === '>' || (/^[^\s*>~]+$/.test(t) && !LONE_SURROGATE.test(t)) ? t : encodedToken(t)))
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
 * The subjects of one namespace. Every subject a process publishes on starts with its
 * publishing prefix `nf.<ns>.from.<identity>.` (`~` without an identity), so that NATS
 * permissions can let each user publish under its own prefix only, and a receiver reads
 * who published a message from the subject it came on ({@link Subjects.origin}). What a
 * process subscribes to has `*` in that place. Topic and id tokens are memoized: encoding
 * them (a split, a regular expression per token, a join) is paid once per topic or agent,
 * not per message.
 */
export class Subjects {
  readonly prefix: string;
  /** Where this process publishes: `nf.<ns>.from.<identity>`. */
  readonly from: string;
  private readonly anyone: string;
  private readonly topicSubjects = new Map<string, string>();
  private readonly topicPatterns = new Map<string, string>();
  private readonly agentTokens = new Map<string, string>();
  constructor(
    readonly namespace: string,
    /** This process's identity (its NATS user, a subject token); undefined: `~`, unidentified. */
    readonly identity?: string,
  ) {
    this.prefix = `nf.${namespace}`;
    this.from = `${this.prefix}.from.${identity ?? UNIDENTIFIED}`;
    this.anyone = `${this.prefix}.from.*`;
  }
  private readonly topicSubject = (topic: string): string => `${this.from}.topic.${topicTokens(topic)}`;
  private readonly topicPatternSubject = (pattern: string): string => `${this.anyone}.topic.${topicTokens(pattern)}`;
  /** The subject token of an agent id (names its durable consumers too). */
  agentToken(agentId: string): string {
    return memoized(this.agentTokens, agentId, subjectToken);
  }
  /** Core (at-most-once) direct messages and requests to an agent, published by this process. */
  agent(agentId: string, priority: MessagePriority): string {
    return `${this.from}.agent.${this.agentToken(agentId)}.${priority}`;
  }
  /** What an agent's process subscribes to: its core messages from anyone, every priority. */
  agentAll(agentId: string): string {
    return `${this.anyone}.agent.${this.agentToken(agentId)}.*`;
  }
  /** JetStream (at-least-once) commands and notifications to an agent, published by this process. */
  durable(agentId: string, priority: MessagePriority): string {
    return `${this.from}.durable.agent.${this.agentToken(agentId)}.${priority}`;
  }
  /** The filter of an agent's durable consumer for one priority: its messages from anyone. */
  durableFilter(agentId: string, priority: MessagePriority): string {
    return `${this.anyone}.durable.agent.${this.agentToken(agentId)}.${priority}`;
  }
  /** The subjects of the work-queue stream {@link stream}. */
  durableAll(): string {
    return `${this.anyone}.durable.>`;
  }
  /** An event on a topic, published by this process. */
  topic(topic: string): string {
    return memoized(this.topicSubjects, topic, this.topicSubject);
  }
  /** What a subscription to a bus topic pattern listens on: the topic from anyone. */
  topicPattern(pattern: string): string {
    return memoized(this.topicPatterns, pattern, this.topicPatternSubject);
  }
  /** A broadcast published by this process. */
  broadcast(): string {
    return `${this.from}.broadcast`;
  }
  /** Broadcasts from anyone. */
  broadcastAll(): string {
    return `${this.anyone}.broadcast`;
  }
  /** The reply subject this process puts on its requests: answered on {@link inboxAll}. */
  inbox(instanceId: string): string {
    return `${this.prefix}.inbox.${instanceId}`;
  }
  /** Where this process's requests are answered: from anyone, to its instance. */
  inboxAll(instanceId: string): string {
    return `${this.anyone}.inbox.${instanceId}`;
  }
  /**
   * Where this process publishes a response to a request whose reply subject is `reply`:
   * under its own prefix. Undefined for a reply subject that is not a NeuroFlux inbox of the
   * namespace: a request from the network must not make this process publish wherever it says.
   */
  response(reply: string): string | undefined {
    const inbox = `${this.prefix}.inbox.`;
    if (!reply.startsWith(inbox)) return undefined;
    const instance = reply.slice(inbox.length);
    return SAFE_TOKEN.test(instance) ? `${this.from}.inbox.${instance}` : undefined;
  }
  /**
   * Who published on `subject`: the identity token after `from`, undefined when the subject
   * is not under `nf.<ns>.from.` or its publisher had no identity.
   */
  origin(subject: string): string | undefined {
    const head = `${this.prefix}.from.`;
    if (!subject.startsWith(head)) return undefined;
    const end = subject.indexOf('.', head.length);
    const token = end < 0 ? subject.slice(head.length) : subject.slice(head.length, end);
    return token === UNIDENTIFIED || token.length === 0 ? undefined : token;
  }
  /** The JetStream stream holding durable traffic. */
  stream(): string {
    return `NF_${this.namespace.replace(/-/g, '_')}`;
  }
  /** Durable messages given up (handler failures past the cap, delivery cap, expiry), published by this process: JetStream stream {@link dlqStream}. */
  dlq(): string {
    return `${this.from}.dlq`;
  }
  /** The subjects of the dead-letter stream. */
  dlqAll(): string {
    return `${this.anyone}.dlq`;
  }
  /** The JetStream stream (limits retention) holding the dead-letter subjects. */
  dlqStream(): string {
    return `${this.stream()}_DLQ`;
  }
  /** Server advisories of durable messages that reached the delivery cap unacknowledged. */
  maxDeliveriesAdvisories(): string {
    return `$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES.${this.stream()}.*`;
  }
}
