-- One push job: the workers' two simple queries (apps/workers/src/idempotency.ts runOnce, handlers.ts
-- pushHandler); the gateway call between them is not the database's work and is left out.
\set u 100000000000 + random(1, :nusers)
\set m random(1, :nmessages)
BEGIN\; SET LOCAL lock_timeout = 60000\; SET LOCAL statement_timeout = 60000\;
INSERT INTO processed_jobs (job_id, queue, outcome) VALUES ('push:' || ':m' || ':00000000-0000-0000-0000-:u', 'push', 'pending') ON CONFLICT (job_id) DO NOTHING;
INSERT INTO push_deliveries (job_id, user_id, message_id, status, gateway_status, attempts)
  SELECT 'push:' || ':m' || ':00000000-0000-0000-0000-:u', u.id, ':m'::bigint, 'delivered', '200'::integer, '1'::integer
    FROM users u WHERE u.id = '00000000-0000-0000-0000-:u'
  ON CONFLICT (job_id) DO NOTHING\;
UPDATE processed_jobs SET outcome = 'delivered', processed_at = now() WHERE job_id = 'push:' || ':m' || ':00000000-0000-0000-0000-:u'\; COMMIT;
