-- Actions (`POST /v1/<kind>/:id/<action>`) are operations too: verb `action`, and which one.
ALTER TABLE stratus_operations DROP CONSTRAINT stratus_operations_verb_check;
ALTER TABLE stratus_operations
  ADD CONSTRAINT stratus_operations_verb_check CHECK (verb IN ('create', 'update', 'delete', 'action'));
ALTER TABLE stratus_operations ADD COLUMN action text;
ALTER TABLE stratus_operations
  ADD CONSTRAINT stratus_operations_action_check CHECK ((verb = 'action') = (action IS NOT NULL));
