-- The calls table: one row per call, with the uniqueness the API promises as constraints.
-- Identifiers and the Matrix-carried callStartedAt are text as the event has them; times the backend
-- writes are timestamptz. COLLATE "C" keeps ordering by code point, as the lowdb store orders strings.
CREATE TABLE calls (
  call_id text COLLATE "C" NOT NULL,
  event_id text NOT NULL,
  room_name text NOT NULL,
  matrix_room_id text NOT NULL,
  user_id text NOT NULL,
  user_did text NOT NULL,
  oracle_did text NOT NULL,
  session_id text NOT NULL,
  call_type text NOT NULL CHECK (call_type IN ('audio', 'video')),
  encryption_key text NOT NULL,
  status text NOT NULL CHECK (status IN ('pending', 'active', 'ended')),
  call_started_at text NOT NULL,
  call_ended_at timestamptz,
  end_reason text,
  dispatch_id text,
  mirrored_status text CHECK (mirrored_status IN ('pending', 'active', 'ended')),
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL,
  CONSTRAINT calls_call_id_key PRIMARY KEY (call_id),
  CONSTRAINT calls_room_name_key UNIQUE (room_name),
  CONSTRAINT calls_encryption_key_key UNIQUE (encryption_key)
);

-- A user's calls, newest first: the order list pages are cut in.
CREATE INDEX calls_user_page ON calls (user_id, created_at DESC, call_id DESC);

-- The few calls whose Matrix event does not show their status yet (read at every start).
CREATE INDEX calls_unmirrored ON calls (created_at, call_id)
  WHERE status <> 'pending' AND mirrored_status IS DISTINCT FROM status;
