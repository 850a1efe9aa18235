// Seeds the demo accounts and the demo's utility data once the database is up, then ends (a temporary child: never restarted).
import type { ActorBehaviour } from '../../src/actor-behaviour.js';
import { seedDemoAccounts } from '../../src/demo/demo-accounts.js';
import { seedDemoCustomerData } from '../../src/demo/demo-customer-data.js';
import type { Resources } from '../../src/resources.js';

type Msg = { type: 'seed' } | { type: 'seeded' } | { type: 'retry' };

export function demoSeedActor(res: Resources, hashPin: (pin: string) => Promise<string>): () => ActorBehaviour<{ attempts: number }, Msg> {
  return () => ({
    init(ctx) {
      ctx.self.tell({ type: 'seed' });
      return { attempts: 0 };
    },
    handle(s, msg, ctx) {
      switch (msg.type) {
        case 'seed':
          res
            .db()
            .then(async (db) => {
              const now = new Date(ctx.clock.now());
              await seedDemoAccounts(db, hashPin, now);
              // The utility's data in the twin tables, and the demo customer's meters linked as the flow would.
              await seedDemoCustomerData(db, now);
            })
            .then(
              () => ctx.self.tell({ type: 'seeded' }),
              (err: unknown) => {
                ctx.log.warn({ err }, 'demo accounts not seeded yet; retrying');
                ctx.self.tell({ type: 'retry' });
              },
            );
          return s;
        case 'retry':
          // The database may still be starting: try again shortly, a bounded number of times.
          if (s.attempts >= 30) throw new Error('could not seed the demo accounts');
          ctx.setTimer(() => ctx.self.tell({ type: 'seed' }), 500);
          return { attempts: s.attempts + 1 };
        case 'seeded':
          ctx.log.info('demo accounts ready');
          ctx.stopSelf();
          return s;
      }
    },
  });
}
