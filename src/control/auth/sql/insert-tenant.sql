-- A new tenant; nothing when it exists already (the caller answers 409).
INSERT INTO stratus_tenants (id) VALUES ($1)
ON CONFLICT (id) DO NOTHING
RETURNING id, created_at
