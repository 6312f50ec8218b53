// JSON Schemas of the values the ports take, as the simulator's HTTP routes validate
// them. One schema per value; the routes compose them per operation (see operations.ts).

const name = { type: 'string', minLength: 1, maxLength: 253 } as const;
const id = { type: 'string', minLength: 1, maxLength: 128 } as const;
const port = { type: 'integer', minimum: 1, maximum: 65_535 } as const;
const cidr = { type: 'string', minLength: 9, maxLength: 18 } as const;
const labels = {
  type: 'object',
  additionalProperties: { type: 'string', maxLength: 256 },
  maxProperties: 64,
} as const;

const mutation = {
  clientToken: { type: 'string', minLength: 1, maxLength: 256 },
  fencingToken: { type: 'integer', minimum: 0 },
  caller: { type: 'string', minLength: 1, maxLength: 128 },
} as const;

/** An object of exactly these properties. */
function object(properties: Record<string, unknown>, required: readonly string[]) {
  return { type: 'object', additionalProperties: false, properties, required } as const;
}

/** Schemas by name. */
export const SCHEMAS = {
  id,
  instanceSpec: object({ name, image: name, size: name, tenant: name, zone: name, labels }, [
    'name',
    'image',
    'size',
  ]),
  networkSpec: object(
    {
      name,
      cidr,
      subnets: { type: 'array', maxItems: 256, items: object({ name, cidr }, ['name', 'cidr']) },
      labels,
    },
    ['name', 'cidr'],
  ),
  ipAllocation: object(
    { networkId: id, address: { type: 'string', minLength: 7, maxLength: 15 }, subnet: name },
    ['networkId', 'address'],
  ),
  networkAttachment: object({ networkId: id, instanceId: id }, ['networkId', 'instanceId']),
  volumeSpec: object({ name, sizeGiB: { type: 'number', exclusiveMinimum: 0 }, fromSnapshot: id, labels }, [
    'name',
    'sizeGiB',
  ]),
  snapshotSpec: object({ name, volumeId: id, labels }, ['name', 'volumeId']),
  volumeAttachment: object({ volumeId: id, instanceId: id }, ['volumeId', 'instanceId']),
  sizeGiB: { type: 'number', exclusiveMinimum: 0 },
  time: { type: 'integer', minimum: 0, description: 'ms since the Unix epoch' },
  databaseSpec: object(
    {
      name,
      engine: { enum: ['postgres', 'mysql'] },
      version: { type: 'string', minLength: 1, maxLength: 16 },
      replicas: { type: 'integer', minimum: 0, maximum: 5 },
      instanceType: name,
      labels,
    },
    ['name', 'engine', 'version', 'replicas', 'instanceType'],
  ),
  size: name,
  webhookCall: object(
    {
      method: { enum: ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'] },
      url: { type: 'string', minLength: 1, maxLength: 2048 },
      body: { type: 'string', maxLength: 65_536 },
      source: { type: 'string', minLength: 1, maxLength: 256 },
    },
    ['method', 'url', 'source'],
  ),
  runSpec: object(
    {
      source: { type: 'string', minLength: 1, maxLength: 256 },
      stages: {
        type: 'array',
        minItems: 1,
        maxItems: 20,
        items: object(
          {
            name,
            steps: {
              type: 'array',
              minItems: 1,
              maxItems: 20,
              items: object(
                {
                  name,
                  image: name,
                  commands: {
                    type: 'array',
                    maxItems: 100,
                    items: { type: 'string', minLength: 1, maxLength: 4_096 },
                  },
                },
                ['name', 'image', 'commands'],
              ),
            },
          },
          ['name', 'steps'],
        ),
      },
      labels,
    },
    ['source', 'stages'],
  ),
  zoneSpec: object({ domain: name, labels }, ['domain']),
  dnsRecord: object(
    {
      name,
      type: { enum: ['A', 'AAAA', 'CNAME', 'MX', 'SRV', 'TXT'] },
      values: { type: 'array', items: { type: 'string', minLength: 1 }, minItems: 1, maxItems: 64 },
      ttl: { type: 'integer', minimum: 1, maximum: 604_800 },
    },
    ['name', 'type', 'values', 'ttl'],
  ),
  recordKey: object({ zoneId: id, name, type: { enum: ['A', 'AAAA', 'CNAME', 'MX', 'SRV', 'TXT'] } }, [
    'zoneId',
    'name',
    'type',
  ]),
  // Exactly one of listenPort and listeners (a listeners field next to a listenPort is
  // refused by name); the port checks the rest (duplicates).
  loadBalancerSpec: {
    ...object(
      {
        name,
        listenPort: port,
        listeners: {
          type: 'array',
          minItems: 1,
          maxItems: 16,
          items: object({ port, protocol: { enum: ['tcp', 'udp', 'http', 'https'] } }, ['port', 'protocol']),
        },
        labels,
      },
      ['name'],
    ),
    if: { required: ['listenPort'] },
    // biome-ignore lint/suspicious/noThenProperty: `then` is JSON Schema's keyword; this object is never awaited.
    then: { properties: { listeners: false } },
    else: { required: ['listeners'] },
  },
  targets: {
    type: 'array',
    maxItems: 1_000,
    items: object(
      {
        address: { type: 'string', minLength: 1, maxLength: 253 },
        port,
        weight: { type: 'number', minimum: 0 },
        instanceId: id,
      },
      ['address', 'port'],
    ),
  },
  readOptions: object({}, []),
  listOptions: object(
    {
      labels,
      limit: { type: 'integer', minimum: 1, maximum: 1_000 },
      cursor: { type: 'string', maxLength: 32 },
    },
    [],
  ),
  logOptions: object({ follow: { type: 'boolean' }, tail: { type: 'integer', minimum: 0 } }, []),
  stepLogOptions: object(
    {
      follow: { type: 'boolean' },
      tail: { type: 'integer', minimum: 0 },
      step: { type: 'string', minLength: 3, maxLength: 512 },
    },
    ['step'],
  ),
  mutationOptions: object(mutation, ['clientToken']),
  allocateOptions: object({ ...mutation, subnet: name }, ['clientToken']),
} as const;

/** Name of a schema. */
export type SchemaName = keyof typeof SCHEMAS;
