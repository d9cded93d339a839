import { expect } from 'chai';
import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { listenControlSocket } from 'pcluster/internal/control-server';

describe('the control socket server', () => {
  let dir: string;
  let server: net.Server | undefined;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'pcluster-control-'));
  });
  afterEach(async () => {
    await new Promise((resolve) => (server === undefined ? resolve(undefined) : server.close(resolve)));
    server = undefined;
    await rm(dir, { recursive: true, force: true });
  });

  it('runs one request per connection: bytes after the first line are not a second command, and a failing handler still answers', async () => {
    const socketPath = path.join(dir, 'c.sock');
    const seen: string[] = [];
    // A slow handler, as the primary's is: the second chunk arrives while the first request is still being answered.
    server = await listenControlSocket(socketPath, async (request) => {
      seen.push(request.command);
      await new Promise((resolve) => setTimeout(resolve, 200));
      if (request.command === 'stop') throw new Error('the primary could not stop');
      return { ok: true, message: 'reloading' };
    });
    const exchange = (chunks: readonly string[]): Promise<string> =>
      new Promise((resolve, reject) => {
        let answer = '';
        const socket = net.connect(socketPath, async () => {
          for (const chunk of chunks) {
            socket.write(chunk);
            await new Promise((r) => setTimeout(r, 50));
          }
        });
        socket.setEncoding('utf8').on('data', (chunk: string) => (answer += chunk));
        socket.on('close', () => resolve(answer));
        socket.on('error', reject);
      });
    const reload = `${JSON.stringify({ command: 'reload' })}\n`;
    expect(JSON.parse(await exchange([reload, reload]))).to.deep.equal({ ok: true, message: 'reloading' });
    expect(seen, 'the handler ran once').to.deep.equal(['reload']);
    expect(JSON.parse(await exchange([`${JSON.stringify({ command: 'stop' })}\n`]))).to.deep.equal({ ok: false, error: 'control request failed: the primary could not stop' });
  });
});
