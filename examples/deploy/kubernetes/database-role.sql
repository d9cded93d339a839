-- The fleet's connection cap is PostgreSQL's own: the application role's CONNECTION LIMIT (run once, as an admin).
-- Sized for deployment.yaml: (replicas 3 + maxSurge 1) pods x --max-connections 3 per pod = 12.
--   steady state: 3 pods x 2 workers = 6 connections
--   + 1 spare per pod while a worker is recycled or reloaded (make-before-break) = 3
--   + the surge pod of a rollout, holding up to its own --max-connections = 3
-- Admin sessions, migrations and monitoring log in as other roles, which this limit does not count.
-- A worker refused at the limit (SQLSTATE 53300) waits for a slot instead of failing (SPEC §6).
CREATE ROLE shop LOGIN CONNECTION LIMIT 12;  -- set its password out of band: \password shop
-- Already there? ALTER ROLE shop CONNECTION LIMIT 12;
