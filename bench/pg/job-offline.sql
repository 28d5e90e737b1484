-- One offline job: the single simple query the workers send (apps/workers/src/handlers.ts offlineHandler,
-- idempotency.ts runOnceStatement). Message :m lies in room :r (seeding in bench/pg-capacity.sh).
\set u 100000000000 + random(1, :nusers)
\set m random(1, :nmessages)
\set r 100000000001 + (:m - 1) % :nrooms
SET LOCAL lock_timeout = 60000\; SET LOCAL statement_timeout = 60000\;
WITH target AS (
  SELECT u.id AS user_id, m.room_id, m.id AS message_id
    FROM users u, messages m
   WHERE u.id = '00000000-0000-0000-0000-:u' AND m.id = ':m' AND m.room_id = '00000000-0000-0000-0000-:r'
), claim AS (
  INSERT INTO processed_jobs (job_id, queue, outcome)
  SELECT 'offline:' || ':m' || ':00000000-0000-0000-0000-:u', 'offline', CASE WHEN EXISTS (SELECT 1 FROM target) THEN 'recorded' ELSE 'skipped' END
  ON CONFLICT (job_id) DO NOTHING
  RETURNING outcome
), digest AS (
  INSERT INTO offline_digests (user_id, room_id, message_id)
  SELECT t.user_id, t.room_id, t.message_id FROM target t, claim
  ON CONFLICT (user_id, message_id) DO NOTHING
)
SELECT (SELECT outcome FROM claim) AS outcome;
