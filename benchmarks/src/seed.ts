import pg from 'pg';

export const ACCOUNT_ROWS = 10_000;

/** The benchmark tables: 10k accounts (primary-key reads) and a history table (writes). */
export async function seed(connectionString: string): Promise<void> {
  const client = new pg.Client({ connectionString });
  await client.connect();
  try {
    await client.query(`
      DROP TABLE IF EXISTS bench_accounts, bench_history;
      CREATE TABLE bench_accounts (id int PRIMARY KEY, name text NOT NULL, balance bigint NOT NULL);
      CREATE TABLE bench_history (id bigserial PRIMARY KEY, account int NOT NULL, delta int NOT NULL, at timestamptz DEFAULT now());
      INSERT INTO bench_accounts SELECT i, 'account ' || i, 0 FROM generate_series(1, ${ACCOUNT_ROWS}) AS i;
      ANALYZE bench_accounts;`);
  } finally {
    await client.end();
  }
}
