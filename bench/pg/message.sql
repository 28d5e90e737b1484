-- One posted message: the statement ChatStore.postMessage sends (apps/shared/src/chat.ts), values as literals.
-- Seeded ids are uuids ending in twelve digits (bench/pg-capacity.sh); user :u is a member of room :r.
\set u 100000000000 + random(1, :nusers)
\set r 100000000001 + (:u + random(0, :rooms_per_user - 1) * :stride) % :nrooms
\set c random(1, 1000000000000)
WITH ins AS (
  INSERT INTO messages (room_id, author_id, body, client_msg_id)
  SELECT '00000000-0000-0000-0000-:r', '00000000-0000-0000-0000-:u', 'a message of about sixty characters, as typed into the chat box', 'pgbench-:c'
   WHERE EXISTS (SELECT 1 FROM room_members WHERE room_id = '00000000-0000-0000-0000-:r' AND user_id = '00000000-0000-0000-0000-:u')
  ON CONFLICT (author_id, room_id, client_msg_id) DO NOTHING
  RETURNING id, room_id, author_id, body, client_msg_id, created_at, edited_at, deleted_at),
upd AS (
  UPDATE room_members SET last_read_message_id = GREATEST(last_read_message_id, (SELECT id FROM ins))
   WHERE room_id = '00000000-0000-0000-0000-:r' AND user_id = '00000000-0000-0000-0000-:u' AND EXISTS (SELECT 1 FROM ins))
SELECT * FROM ins;
