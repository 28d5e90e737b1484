-- Room access control, durable revocation and lockout, one message length everywhere.

-- public: anyone signed in may join; private: only users invited by an owner or admin.
ALTER TABLE rooms ADD COLUMN visibility text NOT NULL DEFAULT 'public' CHECK (visibility IN ('public', 'private'));

-- Roles: the creator is the owner; the owner names admins; owners and admins invite and remove members.
ALTER TABLE room_members DROP CONSTRAINT room_members_role_check;
ALTER TABLE room_members ADD CONSTRAINT room_members_role_check CHECK (role IN ('owner', 'admin', 'member'));

-- An invitation lets one user join (a private room, or a public one they were removed from); joining uses it.
CREATE TABLE room_invitations (
  room_id     uuid NOT NULL REFERENCES rooms (id) ON DELETE CASCADE,
  user_id     uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  invited_by  uuid REFERENCES users (id) ON DELETE SET NULL,
  created_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (room_id, user_id)
);

-- Users removed by an owner or admin: they cannot join again without a new invitation.
CREATE TABLE room_bans (
  room_id     uuid NOT NULL REFERENCES rooms (id) ON DELETE CASCADE,
  user_id     uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  banned_by   uuid REFERENCES users (id) ON DELETE SET NULL,
  created_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (room_id, user_id)
);

-- The message length limit (MESSAGE_BODY_MAX in apps/shared/src/chat.ts), in Unicode code points as
-- char_length counts them in a UTF8 database.
ALTER TABLE messages ADD CONSTRAINT messages_body_length CHECK (char_length(body) <= 4000);

-- Access tokens of the user issued before this instant are refused (admin revoke). With sessions.revoked_at
-- this is the source of truth for revocation; the Redis keys are a cache of it.
ALTER TABLE users ADD COLUMN tokens_revoked_before timestamptz;

-- A username locked for one client address after too many failed logins from it (the source of truth; the
-- Redis key lockout:<username>:<ip> caches it).
CREATE TABLE login_lockouts (
  username      text NOT NULL,
  client_ip     text NOT NULL,
  locked_until  timestamptz NOT NULL,
  PRIMARY KEY (username, client_ip)
);
CREATE INDEX login_lockouts_until_idx ON login_lockouts (locked_until);
