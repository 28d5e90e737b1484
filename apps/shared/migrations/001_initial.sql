-- Accounts, sessions, rotating refresh tokens, rooms, membership, messages.

CREATE TABLE users (
  id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  username      text NOT NULL,
  display_name  text NOT NULL,
  password_hash text NOT NULL,
  is_admin      boolean NOT NULL DEFAULT false,
  created_at    timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT users_username_format CHECK (username ~ '^[a-z0-9_.-]{3,32}$')
);
CREATE UNIQUE INDEX users_username_key ON users (username);

-- One row per login. Revoking a session ends its refresh chain; access tokens carry the session id (sid)
-- and are refused through the Redis key auth:revoked-session:<id>.
CREATE TABLE sessions (
  id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  user_id      uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  created_at   timestamptz NOT NULL DEFAULT now(),
  expires_at   timestamptz NOT NULL,
  revoked_at   timestamptz,
  revoke_reason text,
  user_agent   text,
  ip           text
);
CREATE INDEX sessions_user_idx ON sessions (user_id) WHERE revoked_at IS NULL;

-- Refresh tokens are stored as SHA-256 hashes. Each use marks the row used and issues its successor; a used
-- token presented again is a reuse (a stolen copy) and revokes the whole session.
CREATE TABLE refresh_tokens (
  token_hash  bytea PRIMARY KEY,
  session_id  uuid NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
  created_at  timestamptz NOT NULL DEFAULT now(),
  expires_at  timestamptz NOT NULL,
  used_at     timestamptz
);
CREATE INDEX refresh_tokens_session_idx ON refresh_tokens (session_id);

CREATE TABLE rooms (
  id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  name        text NOT NULL,
  created_by  uuid NOT NULL REFERENCES users (id),
  created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE room_members (
  room_id               uuid NOT NULL REFERENCES rooms (id) ON DELETE CASCADE,
  user_id               uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  role                  text NOT NULL DEFAULT 'member' CHECK (role IN ('owner', 'member')),
  joined_at             timestamptz NOT NULL DEFAULT now(),
  last_read_message_id  bigint NOT NULL DEFAULT 0,
  PRIMARY KEY (room_id, user_id)
);
CREATE INDEX room_members_user_idx ON room_members (user_id);

CREATE TABLE messages (
  id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  room_id        uuid NOT NULL REFERENCES rooms (id) ON DELETE CASCADE,
  author_id      uuid NOT NULL REFERENCES users (id),
  body           text NOT NULL,
  client_msg_id  text NOT NULL,
  created_at     timestamptz NOT NULL DEFAULT now(),
  edited_at      timestamptz,
  deleted_at     timestamptz,
  CONSTRAINT messages_client_msg_id_key UNIQUE (author_id, room_id, client_msg_id)
);
CREATE INDEX messages_room_id_idx ON messages (room_id, id DESC);
CREATE INDEX messages_room_created_idx ON messages (room_id, created_at);
