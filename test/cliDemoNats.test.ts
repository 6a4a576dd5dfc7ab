/** `neuroflux demo --nats URL` against a nats-server this test starts on a free loopback port. */
import { buildCli } from '../src/cli/main';
import { NATS_SERVER_BIN, describeWithServer, natsServerForSuite } from './support/servers';

describeWithServer(NATS_SERVER_BIN, 'neuroflux demo --nats', () => {
  const server = natsServerForSuite();

  test('the demo runs connected to NATS and gives the same summary as embedded', async () => {
    const run = async (extra: string[]) => {
      let out = '';
      await buildCli({ write: (t) => (out += t), isTTY: false }).parseAsync(['node', 'neuroflux', 'demo', '--tasks', '8', '--seed', '5', '--json', ...extra]);
      const { timing: _t, messagesByPriority: _m, ...summary } = JSON.parse(out) as Record<string, unknown>;
      return summary;
    };
    const embedded = await run([]);
    const overNats = await run(['--nats', server().url]);
    expect(overNats).toEqual(embedded);
  }, 60_000);

  test('a malformed URL is refused naming the option', async () => {
    const cli = buildCli({ write: () => undefined, isTTY: false });
    await expect(cli.parseAsync(['node', 'neuroflux', 'demo', '--nats', 'localhost'])).rejects.toMatchObject({ field: '--nats' });
  });
});
