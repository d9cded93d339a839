import { expect } from 'chai';
import { combinedLine, commonLogTime, jsonLine, type AccessEntry } from '@pcluster/worker-runtime/internal/access-log';

const entry: AccessEntry = {
  remote: '10.0.0.7', method: 'GET', path: '/items?id=1', httpVersion: '1.1', status: 200, bytes: 512,
  referer: 'https://shop.example.com/', userAgent: 'curl/8.5.0', durationSeconds: 0.0123456,
};
const at = new Date(Date.UTC(2026, 11, 6, 4, 10, 25));

describe('access-log lines', () => {
  it('combined log format plus the duration in seconds', () => {
    expect(commonLogTime(at)).to.equal('06/Dec/2026:04:10:25 +0000');
    expect(combinedLine(entry, at)).to.equal('10.0.0.7 - - [06/Dec/2026:04:10:25 +0000] "GET /items?id=1 HTTP/1.1" 200 512 "https://shop.example.com/" "curl/8.5.0" 0.012346');
  });

  it('a missing remote, referer or user agent is "-"; quotes, backslashes and newlines are escaped so a line stays one line', () => {
    const line = combinedLine({ ...entry, remote: undefined, referer: undefined, userAgent: 'evil"\n\\agent', path: '/a"b' }, at);
    expect(line).to.equal('- - - [06/Dec/2026:04:10:25 +0000] "GET /a\\x22b HTTP/1.1" 200 512 "-" "evil\\x22\\x0a\\x5cagent" 0.012346');
    expect(line).not.to.include('\n');
  });

  it('the JSON line carries worker, pid, method, path, status, bytes and duration', () => {
    expect(JSON.parse(jsonLine(entry, at, 3, 4242))).to.deep.equal({
      time: '2026-12-06T04:10:25.000Z', msg: 'access', worker: 3, pid: 4242, remote: '10.0.0.7', method: 'GET', path: '/items?id=1',
      httpVersion: '1.1', status: 200, bytes: 512, duration: 0.012346, referer: 'https://shop.example.com/', userAgent: 'curl/8.5.0',
    });
  });
});
