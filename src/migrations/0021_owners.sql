-- Owner references and the state of the compute controllers (src/controllers/autoscaling,
-- lb-sync, healing).
--
-- A child resource (an instance of an autoscaling group) records its owner in owner_id and
-- carries the owner's id in ref_ids too, so that every referrer check of the generic machinery
-- sees it: the owner's delete waits for its children (DependentsPending) and a child's final
-- removal starts the owner's held delete, exactly as for a cascade.
ALTER TABLE stratus_resources ADD COLUMN owner_id text;
CREATE INDEX stratus_resources_owner ON stratus_resources (owner_id, id) WHERE owner_id IS NOT NULL;

-- The autoscaling controller's state per group, written only in its term's fenced
-- transaction: the size it decided (`desired`), when it last changed it (the cooldown), and the
-- group generation that size was last taken from the spec at (a new generation, e.g. the
-- `scale` action, resets it to spec.desired).
CREATE TABLE stratus_autoscaling (
  group_id          text PRIMARY KEY,
  desired           integer NOT NULL CHECK (desired >= 0),
  spec_generation   bigint NOT NULL,
  last_scaled_at    timestamptz NOT NULL,
  epoch             bigint NOT NULL
);

-- Every scaling decision with its reason, append-only; a group's status shows the last ones.
CREATE TABLE stratus_scaling_decisions (
  id          bigserial PRIMARY KEY,
  group_id    text NOT NULL,
  at          timestamptz NOT NULL,
  from_size   integer NOT NULL,
  to_size     integer NOT NULL,
  reason      text NOT NULL,
  message     text NOT NULL,
  epoch       bigint NOT NULL
);
CREATE INDEX stratus_scaling_decisions_group ON stratus_scaling_decisions (group_id, id);

-- The healing controller's memory per instance: restarts in the current window, when the
-- next one may happen (backoff), and what it did last.
CREATE TABLE stratus_healing (
  resource_id     text PRIMARY KEY,
  window_start    timestamptz NOT NULL,
  restarts        integer NOT NULL,
  next_at         timestamptz NOT NULL,
  last_action     text NOT NULL,
  last_at         timestamptz NOT NULL,
  epoch           bigint NOT NULL
);
