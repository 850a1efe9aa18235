// Vitest, two projects run one after the other (sequence.groupOrder): `main` — unit, integration (real services
// from ops/services.sh) and e2e tests, two workers for two cores — then `cluster` — the three-node RabbitMQ cluster
// tests (test/cluster/, root needed for ip netns), one file at a time with long timeouts, only once main is done.
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    globalSetup: ['test/support/global-setup.ts'],
    pool: 'forks',
    projects: [
      {
        extends: true,
        test: {
          name: 'main',
          include: ['test/unit/**/*.test.ts', 'test/integration/**/*.test.ts', 'test/e2e/**/*.test.ts'],
          testTimeout: 30_000,
          hookTimeout: 30_000,
          maxWorkers: 2,
          sequence: { groupOrder: 0 },
        },
      },
      {
        extends: true,
        test: {
          name: 'cluster',
          include: ['test/cluster/**/*.test.ts'],
          // Each file boots its own cluster (three Erlang VMs): never two at once on two cores.
          fileParallelism: false,
          maxWorkers: 1,
          testTimeout: 600_000,
          hookTimeout: 600_000,
          sequence: { groupOrder: 1 },
        },
      },
    ],
  },
});
