-- Tables the workers write: idempotency records, offline digests, push delivery results.

-- One row per queue job id (push:<messageId>:<userId>, offline:<messageId>:<userId>). Inserted first in the
-- job's transaction, so a duplicate delivery finds it and does nothing.
CREATE TABLE processed_jobs (
  job_id        text PRIMARY KEY,
  queue         text NOT NULL,
  outcome       text NOT NULL,
  processed_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX processed_jobs_processed_at_idx ON processed_jobs (processed_at);

-- Messages a user missed while offline, for the user to fetch as a digest.
CREATE TABLE offline_digests (
  id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  user_id     uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  room_id     uuid NOT NULL REFERENCES rooms (id) ON DELETE CASCADE,
  message_id  bigint NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
  created_at  timestamptz NOT NULL DEFAULT now(),
  fetched_at  timestamptz,
  CONSTRAINT offline_digests_user_message_key UNIQUE (user_id, message_id)
);
CREATE INDEX offline_digests_unfetched_idx ON offline_digests (user_id, id) WHERE fetched_at IS NULL;

-- The result of each push notification sent to the gateway.
CREATE TABLE push_deliveries (
  job_id          text PRIMARY KEY,
  user_id         uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  message_id      bigint NOT NULL,
  status          text NOT NULL CHECK (status IN ('delivered', 'rejected')),
  gateway_status  integer,
  attempts        integer NOT NULL DEFAULT 1,
  created_at      timestamptz NOT NULL DEFAULT now()
);
