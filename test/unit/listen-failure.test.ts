import { expect } from 'chai';
import { listenFailure } from '@pcluster/worker-runtime/internal/listen-failure';

const errno = (code: string, address: string, port: number): NodeJS.ErrnoException =>
  Object.assign(new Error(`bind ${code} ${address}:${port}`), { code, syscall: 'bind', address, port });
const config = { host: '0.0.0.0', port: 3000, isPortExplicit: true };

describe('listenFailure()', () => {
  it('a port in use: one line naming --port, the address and the fix, no stack', () => {
    expect(listenFailure(errno('EADDRINUSE', '0.0.0.0', 3000), config)).to.deep.equal({
      code: 'PCLUSTER_LISTEN',
      message: 'cannot listen on 0.0.0.0:3000 (--port 3000): the port is already in use; stop what listens there or choose another --port (EADDRINUSE)',
    });
  });

  it('names the port the app asked for when --port did not choose it', () => {
    const failure = listenFailure(errno('EADDRINUSE', '127.0.0.1', 8000), { ...config, isPortExplicit: false });
    expect(failure.message).to.equal('cannot listen on 127.0.0.1:8000 (port 8000, which the app asked for): the port is already in use; stop what listens there or choose another --port (EADDRINUSE)');
  });

  it('a privileged port and a foreign address get their own fix; anything else keeps the error and its stack', () => {
    expect(listenFailure(errno('EACCES', '0.0.0.0', 80), config).message).to.match(/\(--port 80\): permission denied; .*choose a --port of 1024 or more \(EACCES\)$/);
    expect(listenFailure(errno('EADDRNOTAVAIL', '10.9.9.9', 3000), config).message).to.match(/^cannot listen on 10\.9\.9\.9:3000 .*choose another --host \(EADDRNOTAVAIL\)$/);
    const other = listenFailure(new Error('something odd'), config);
    expect(other.message).to.equal('cannot listen on 0.0.0.0:3000: something odd');
    expect(other.detail).to.match(/something odd/);
  });
});
