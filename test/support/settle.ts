/** Lets `rounds` turns of the event loop pass: promise chains and `setImmediate` work settle, timers do not fire. */
export async function settle(rounds = 10): Promise<void> {
  for (let i = 0; i < rounds; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}
