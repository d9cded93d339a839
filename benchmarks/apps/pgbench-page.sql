-- Contender 8: the /page workload as a pgbench script (one transaction = one page).
\set a random(1, 10000)
\set b random(1, 10000)
\set c random(1, 10000)
SELECT id, name, balance FROM bench_accounts WHERE id = :a;
SELECT id, name, balance FROM bench_accounts WHERE id = :b;
SELECT id, name, balance FROM bench_accounts WHERE id = :c;
