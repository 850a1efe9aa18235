// The test cluster's reading of RabbitMQ's management API (GET /api/nodes): a member that is not running comes
// without its partitions field, and the settled wait must read it as no partition rather than fail on it.
import { describe, expect, it } from 'vitest';
import { managementView } from '../../support/rabbit-cluster/cluster-views.js';

describe('managementView', () => {
  it('lists the running members and reads a stopped member without partitions as none', () => {
    const v = managementView([
      { name: 'rabbit@a', running: true, partitions: [] },
      { name: 'rabbit@b', running: false },
      { name: 'rabbit@c', running: true, partitions: [] },
    ]);
    expect(v).toEqual({ running: ['rabbit@a', 'rabbit@c'], partitioned: false });
  });

  it('reports a partition any member lists', () => {
    expect(managementView([{ name: 'rabbit@a', running: true, partitions: ['rabbit@b'] }, { name: 'rabbit@b', running: false }]).partitioned).toBe(true);
  });
});
