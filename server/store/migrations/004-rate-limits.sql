-- The rate-limit counters that several backends share (rate-limiter-flexible's RateLimiterPostgres
-- layout, made here rather than by the library at start, where backends starting at once would race).
-- One row per limit and key (`<limit>:<address or user>`); expire is in milliseconds since the epoch.
CREATE TABLE rate_limits (
  key text PRIMARY KEY,
  points integer NOT NULL DEFAULT 0,
  expire bigint
);
