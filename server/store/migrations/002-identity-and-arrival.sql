-- The call's userDid as far as it is proven (USER_DID_POLICY), and when the oracle's agent arrived
-- (its first key fetch; a call no agent took ends as oracle_busy). Open calls per user are counted at
-- every new call (USER_MAX_OPEN_CALLS), and open calls are read by the sweep.
ALTER TABLE calls ADD COLUMN verified_user_did text;
ALTER TABLE calls ADD COLUMN claimed_user_did text;
ALTER TABLE calls ADD COLUMN agent_arrived_at timestamptz;
CREATE INDEX calls_open ON calls (user_id) WHERE status <> 'ended';
