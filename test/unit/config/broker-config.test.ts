// AMQP_URL as one node or a cluster's list, the node tried first, the quorum group size and the management API list.
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config.js';
import { configProblems } from '../../support/config-problems.js';

const problems = configProblems;

describe('broker config', () => {
  it('reads one node as a list of one, and no AMQP_URL as no node (the in-process broker)', () => {
    expect(loadConfig({ AMQP_URL: 'amqp://u:p@mq:5672/sc' }).broker).toMatchObject({ urls: ['amqp://u:p@mq:5672/sc'], firstNode: undefined, quorumGroupSize: undefined });
    expect(loadConfig({}).broker.urls).toEqual([]);
    expect(loadConfig({ AMQP_URL: '  ' }).broker.urls).toEqual([]);
  });

  it('reads a comma list of nodes in order, blanks around the items ignored', () => {
    const c = loadConfig({ AMQP_URL: 'amqp://u:p@mq1:5672/sc, amqps://u:p@mq2:5671/sc ,amqp://u:p@mq3/sc' });
    expect(c.broker.urls).toEqual(['amqp://u:p@mq1:5672/sc', 'amqps://u:p@mq2:5671/sc', 'amqp://u:p@mq3/sc']);
  });

  it('names the bad item of the list by position, without its password', () => {
    const list = problems({ AMQP_URL: 'amqp://u:p@mq1/sc,http://u:secret@mq2:15672/sc,amqp://u:p@mq3/sc' });
    expect(list).toEqual(['AMQP_URL: item 2 of 3 ("http://u:***@mq2:15672/sc") must be a URL starting with amqp:// or amqps://']);
    expect(list.join()).not.toContain('secret');
    expect(problems({ AMQP_URL: 'amqp://mq1,mq2:5672' })).toEqual(['AMQP_URL: item 2 of 2 ("mq2:5672") must be a URL starting with amqp:// or amqps://']);
    expect(problems({ AMQP_URL: 'mysql://x' })).toEqual(['AMQP_URL: "mysql://x" must be a URL starting with amqp:// or amqps://']);
  });

  it('refuses nodes that name different vhosts, naming them', () => {
    expect(problems({ AMQP_URL: 'amqp://u:p@mq1/sc,amqp://u:p@mq2/other' })).toEqual(['AMQP_URL: every node of the list must name the same vhost; found "sc", "other"']);
    // No path and "/" are the same vhost, the default one.
    expect(problems({ AMQP_URL: 'amqp://u:p@mq1,amqp://u:p@mq2/' })).toEqual([]);
    expect(problems({ AMQP_URL: 'amqp://u:p@mq1,amqp://u:p@mq2/sc' })).toEqual(['AMQP_URL: every node of the list must name the same vhost; found "/", "sc"']);
  });

  it('reads the node tried first, refusing a position past the list', () => {
    expect(loadConfig({ AMQP_URL: 'amqp://mq1,amqp://mq2', BROKER_FIRST_NODE: '1' }).broker.firstNode).toBe(1);
    expect(problems({ AMQP_URL: 'amqp://mq1,amqp://mq2', BROKER_FIRST_NODE: '2' })).toEqual([
      "BROKER_FIRST_NODE: 2 is past the end of AMQP_URL's 2 nodes (positions start at 0)",
    ]);
    expect(problems({ AMQP_URL: 'amqp://mq1', BROKER_FIRST_NODE: '-1' })).toEqual([expect.stringMatching(/^BROKER_FIRST_NODE: /)]);
  });

  it('reads the quorum group size, a whole number from 1', () => {
    expect(loadConfig({ BROKER_QUORUM_GROUP_SIZE: '3' }).broker.quorumGroupSize).toBe(3);
    expect(problems({ BROKER_QUORUM_GROUP_SIZE: '0' })).toEqual([expect.stringMatching(/^BROKER_QUORUM_GROUP_SIZE: /)]);
    expect(problems({ BROKER_QUORUM_GROUP_SIZE: '2.5' })).toEqual([expect.stringMatching(/^BROKER_QUORUM_GROUP_SIZE: /)]);
  });

  it('reads the management API as a list, trailing slashes dropped, on the vhost of AMQP_URL', () => {
    const c = loadConfig({ AMQP_URL: 'amqp://mq1/sc,amqp://mq2/sc', RABBITMQ_MANAGEMENT_URL: 'http://mq1:15672/, https://mq2:15671', RABBITMQ_MANAGEMENT_USER: 'ops' });
    expect(c.broker.management).toEqual({ urls: ['http://mq1:15672', 'https://mq2:15671'], user: 'ops', password: '', vhost: 'sc' });
    expect(loadConfig({}).broker.management).toBeUndefined();
    expect(problems({ RABBITMQ_MANAGEMENT_URL: 'http://mq1:15672,amqp://mq2' })).toEqual([
      'RABBITMQ_MANAGEMENT_URL: item 2 of 2 ("amqp://mq2") must be a URL starting with http:// or https://',
    ]);
  });
});
