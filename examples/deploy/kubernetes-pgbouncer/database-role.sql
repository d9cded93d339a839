-- Behind PgBouncer, the connections PostgreSQL sees are PgBouncer's, capped by the role's CONNECTION LIMIT.
-- Sized for pgbouncer.yaml: (replicas 2 + maxSurge 1) PgBouncer pods x max_db_connections 5 per pod = 15.
-- pcluster's own connections (to PgBouncer) are bounded by max_client_conn instead: see shop-deployment.yaml.
-- Settings pcluster would give with --session go on the role: PgBouncer's server connections start with them.
CREATE ROLE shop LOGIN CONNECTION LIMIT 15;  -- set its password out of band: \password shop
ALTER ROLE shop SET statement_timeout = '5s';
