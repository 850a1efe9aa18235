// Where the objects actor sits: on the roles that serve the API, optional in readiness, after the broker.
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config.js';
import { silentLogger } from '../../../src/logger.js';
import { objectsChild } from '../../../supervisors/tree/objects.js';
import { rootSpec } from '../../../supervisors/tree/root.js';
import type { TreeContext } from '../../../supervisors/tree/tree-context.js';

// Declaring the tree reads the config and a few of what src/node.ts makes (stand-ins here); the rest is used only by running actors.
const contextFor = (env: NodeJS.ProcessEnv, argv: string[] = []) => ({ config: loadConfig(env, argv), revocations: {}, log: silentLogger(), identity: { nodeId: 'n', incarnation: 'i', role: 'api', host: 'h', pid: 1, startedAt: new Date(0) } }) as TreeContext;
const rootChildren = (argv: string[]) => rootSpec(contextFor({}, argv)).children.map((c) => c.name);

describe('objects in the tree', () => {
  it('is an optional part named objects', () => {
    const spec = objectsChild(contextFor({}));
    expect(spec).toMatchObject({ kind: 'actor', name: 'objects', readiness: 'optional' });
  });

  it('runs on the api and all roles, right after the broker, and not on a worker', () => {
    expect(rootChildren(['--role=api'])).toEqual(['control', 'resources', 'node-registry', 'control-plane', 'broker', 'objects', 'sources', 'services']);
    expect(rootChildren(['--role=all']).indexOf('objects')).toBe(rootChildren(['--role=all']).indexOf('broker') + 1);
    expect(rootChildren(['--role=worker'])).not.toContain('objects');
  });
});
