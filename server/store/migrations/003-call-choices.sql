-- The voice and language a call chose (the call event's agentVoice and language), both optional and
-- fixed once the call is stored, as the event's fields are.
ALTER TABLE calls ADD COLUMN agent_voice text;
ALTER TABLE calls ADD COLUMN language text;
