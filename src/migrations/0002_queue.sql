-- The PostgreSQL queue (embedded default and Redis-less deployments): one row per live message.
-- A row is ready when locked_until IS NULL and available_at has come; held while locked_until is
-- set; reclaimable once locked_until has passed. Acked rows are deleted.
CREATE TABLE stratus_queue_messages (
  id            bigserial PRIMARY KEY,
  queue         text NOT NULL,
  body          text NOT NULL,
  -- How many times the message has been handed out (receive or reclaim).
  deliveries    integer NOT NULL DEFAULT 0,
  enqueued_at   timestamptz NOT NULL DEFAULT now(),
  -- Later than now() for a delayed retry.
  available_at  timestamptz NOT NULL DEFAULT now(),
  -- Set while a consumer holds the message: the end of its visibility timeout.
  locked_until  timestamptz,
  locked_by     text
);

-- receive: ready rows of one queue in id order.
CREATE INDEX stratus_queue_messages_ready ON stratus_queue_messages (queue, id)
  WHERE locked_until IS NULL;
-- reclaim: held rows of one queue by the end of their visibility timeout.
CREATE INDEX stratus_queue_messages_held ON stratus_queue_messages (queue, locked_until)
  WHERE locked_until IS NOT NULL;

CREATE TABLE stratus_queue_dead_letters (
  id            bigserial PRIMARY KEY,
  queue         text NOT NULL,
  message_id    bigint NOT NULL,
  body          text NOT NULL,
  reason        text NOT NULL,
  deliveries    integer NOT NULL,
  enqueued_at   timestamptz NOT NULL,
  dead_at       timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX stratus_queue_dead_letters_queue ON stratus_queue_dead_letters (queue, id);
