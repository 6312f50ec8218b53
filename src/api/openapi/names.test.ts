import Type from 'typebox';
import { describe, expect, it } from 'vitest';
import { defineKind } from '../../core/resources/kind.js';
import { KindRegistry } from '../../core/resources/registry.js';
import { openApiDocument } from './document.js';
import { kindNames } from './names.js';

const toy = (name: string, idPrefix: string) =>
  defineKind({
    name,
    idPrefix,
    spec: Type.Object({}),
    outputs: Type.Object({}),
    driver: () => {
      throw new Error('never called');
    },
  });

describe('kindNames', () => {
  it.each([
    ['networks', 'Network', 'Networks'],
    ['instances', 'Instance', 'Instances'],
    ['load-balancers', 'LoadBalancer', 'LoadBalancers'],
    ['dns-zones', 'DnsZone', 'DnsZones'],
    ['addresses', 'Address', 'Addresses'],
    ['policies', 'Policy', 'Policies'],
    ['boxes', 'Box', 'Boxes'],
  ])('%s → %s, %s', (name, one, many) => {
    expect(kindNames(name)).toEqual({ one, many });
  });
});

describe('openApiDocument', () => {
  it('refuses two kinds whose schemas would share a name', () => {
    const kinds = new KindRegistry([toy('gadgets', 'gad'), toy('gadget', 'gd')]);
    expect(() => openApiDocument(kinds, '0')).toThrow(/two schemas are named Gadget/);
  });

  it('refuses a kind whose schema would take a shared one’s name', () => {
    const kinds = new KindRegistry([toy('operations', 'op')]);
    expect(() => openApiDocument(kinds, '0')).toThrow(/two schemas are named Operation/);
  });
});
