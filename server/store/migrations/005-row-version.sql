-- A version per row, set by the database itself on every insert and update, whoever writes it: a
-- backend may keep what it made of a row (the record, the answers made from it) for as long as the row
-- it reads still has the version it was made from. Versions come from one sequence, so no two row
-- states ever share one (not even a call deleted and stored again under the same callId).
CREATE SEQUENCE calls_version_seq;
ALTER TABLE calls ADD COLUMN version bigint NOT NULL DEFAULT nextval('calls_version_seq');
CREATE FUNCTION calls_next_version() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  NEW.version := nextval('calls_version_seq');
  RETURN NEW;
END
$$;
CREATE TRIGGER calls_version BEFORE UPDATE ON calls FOR EACH ROW EXECUTE FUNCTION calls_next_version();
