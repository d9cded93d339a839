import { expect } from 'chai';
import { isAllowedHost } from 'pcluster/internal/is-allowed-host';

describe("the metrics server's Host check (DNS rebinding)", () => {
  it('bound to loopback: answers localhost, IP addresses and the configured --metrics-host, refuses other names', () => {
    for (const host of ['127.0.0.1:9091', 'localhost:9091', 'LOCALHOST', 'localhost.:9091', '[::1]:9091', '10.1.2.3:9091', 'app.localhost:9091', undefined]) {
      expect(isAllowedHost(host, '127.0.0.1', '127.0.0.1'), String(host)).to.equal(true);
    }
    for (const host of ['evil.example:9091', 'evil.example', '127.0.0.1.nip.io:9091', 'localhost.evil.example', '127.0.0.1@evil.example', 'evil.example/127.0.0.1', '', 'a b']) {
      expect(isAllowedHost(host, '127.0.0.1', '127.0.0.1'), host).to.equal(false);
    }
    expect(isAllowedHost('metrics.internal:9091', '127.0.1.1', 'metrics.internal'), 'the configured name').to.equal(true);
    expect(isAllowedHost('evil.example:9091', '::1', 'localhost')).to.equal(false);
    expect(isAllowedHost('evil.example:9091', '::ffff:127.0.0.1', 'localhost')).to.equal(false);
  });

  it('bound beyond loopback (0.0.0.0, ::, an interface address): answers any Host, as scrapers name their targets freely', () => {
    for (const bound of ['0.0.0.0', '::', '10.0.0.5']) expect(isAllowedHost('shop-metrics.default.svc:9091', bound, bound), bound).to.equal(true);
  });
});
