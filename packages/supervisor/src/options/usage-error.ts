/** Bad usage or configuration: one line naming the flag, the value and the accepted form; exit status 2. */
export class UsageError extends Error {
  readonly code = 'PCLUSTER_USAGE';
  readonly exitCode = 2;
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}
