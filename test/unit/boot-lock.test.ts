import { expect } from 'chai';
import { BootLock } from 'pcluster/internal/boot-lock';

describe('BootLock (the primary\'s start-up lock behind a pooler)', () => {
  it('grants one worker at a time, first come first served, and passes on when the holder releases or exits', () => {
    const lock = new BootLock();
    const granted: number[] = [];
    for (const id of [1, 2, 3, 4]) lock.request(id, () => granted.push(id));
    expect(granted).to.deep.equal([1]);
    lock.release(3); // exited while waiting: never granted
    lock.release(2);
    expect(granted).to.deep.equal([1]);
    lock.release(1);
    expect(granted).to.deep.equal([1, 4]);
    lock.release(4);
    lock.request(5, () => granted.push(5));
    expect(granted).to.deep.equal([1, 4, 5]);
  });
});
