import { expect } from 'chai';
import { keepaliveSettings } from '@pcluster/worker-runtime/internal/keepalive-settings';
import { clientConfig } from '@pcluster/worker-runtime/internal/connect-settings';

const database = { connectionString: undefined, applicationName: 'pcluster:shop:1', session: {}, isConfigured: true };

describe('keepaliveSettings(): --keepalive-timeout on both ends (SPEC §6)', () => {
  it('splits the default 60 s into 30 s idle and three probes 10 s apart, with tcp_user_timeout 60 s', () => {
    expect(keepaliveSettings(60_000)).to.deep.equal({
      clientIdleMs: 30_000,
      serverSession: { tcp_keepalives_idle: '30', tcp_keepalives_interval: '10', tcp_keepalives_count: '3', tcp_user_timeout: '60000' },
    });
  });

  it('gives up on a silent peer within the timeout, in whole seconds of at least 1', () => {
    for (const timeoutS of [2, 3, 4, 5, 7, 10, 59, 61, 300, 3600]) {
      const { serverSession: s } = keepaliveSettings(timeoutS * 1000);
      const idle = Number(s.tcp_keepalives_idle), interval = Number(s.tcp_keepalives_interval), count = Number(s.tcp_keepalives_count);
      expect(idle + interval * count, `${timeoutS}s`).to.be.at.most(timeoutS);
      expect(Math.min(idle, interval), `${timeoutS}s`).to.be.at.least(1);
      expect(Number(s.tcp_user_timeout)).to.equal(timeoutS * 1000);
    }
    expect(keepaliveSettings(5_500).serverSession.tcp_user_timeout, 'whole seconds').to.equal('5000');
  });

  it('reaches the connection: the socket option, and the server settings in the startup packet, where --session wins', () => {
    const config = clientConfig({ ...database, session: { statement_timeout: '5s', tcp_user_timeout: '9000' } }, {}, 5_000);
    expect(config.keepAlive).to.equal(true);
    expect(config.keepAliveInitialDelayMillis).to.equal(2_000);
    expect(config.options).to.equal('-c tcp_keepalives_idle=2 -c tcp_keepalives_interval=1 -c tcp_keepalives_count=3 -c tcp_user_timeout=9000 -c statement_timeout=5s');
  });
});
