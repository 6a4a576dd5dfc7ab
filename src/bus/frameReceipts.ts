import type { FrameReceipt } from './transportLink';
import type { Message } from './message';

/**
 * The receipts of durable frames a transport handed to the bus, by message id, until the
 * bus settles each (handled, failed, given up). Empty without a transport, so the checks on
 * the delivery path are one size test.
 * @internal
 */
export class FrameReceipts {
  private readonly byId = new Map<string, FrameReceipt>();

  get size(): number {
    return this.byId.size;
  }

  hold(message: Message, receipt: FrameReceipt): void {
    this.byId.set(message.messageId, receipt);
  }

  /** The receipt of `message`, kept. */
  peek(message: Message): FrameReceipt | undefined {
    return this.byId.size > 0 ? this.byId.get(message.messageId) : undefined;
  }

  /** The receipt of `message`, forgotten: the caller settles it. */
  take(message: Message): FrameReceipt | undefined {
    if (this.byId.size === 0) return undefined;
    const receipt = this.byId.get(message.messageId);
    if (receipt) this.byId.delete(message.messageId);
    return receipt;
  }

  forget(message: Message): void {
    this.byId.delete(message.messageId);
  }

  /** Forgets every receipt (the bus stopped): unsettled frames stay unacknowledged and the transport redelivers them. */
  clear(): void {
    this.byId.clear();
  }
}
