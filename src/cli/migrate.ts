// `npm run migrate`: applies pending migrations on a direct connection (DATABASE_MIGRATION_URL, else DATABASE_URL).
import { migrate } from '../adapters/postgres/migrate.js';
import { errorMessage } from '../errors/app-error.js';

const EXIT_USAGE = 2;

/** The URL's password, so that any message that echoes it can be scrubbed before it is printed. */
function passwordOf(url: string): string | undefined {
  try {
    const password = decodeURIComponent(new URL(url).password);
    return password === '' ? undefined : password;
  } catch {
    return undefined;
  }
}

function scrub(text: string, secrets: Array<string | undefined>): string {
  return secrets.reduce<string>((out, secret) => (secret ? out.split(secret).join('***') : out), text);
}

async function main(): Promise<number> {
  const databaseUrl = process.env.DATABASE_MIGRATION_URL || process.env.DATABASE_URL;
  if (!databaseUrl) {
    console.error('migrate: set DATABASE_MIGRATION_URL (or DATABASE_URL) to a direct PostgreSQL connection URL');
    return EXIT_USAGE;
  }
  const secrets = [passwordOf(databaseUrl)];
  try {
    const { applied } = await migrate({ databaseUrl });
    if (applied.length === 0) console.log('migrate: nothing to apply');
    for (const name of applied) console.log(`migrate: applied ${name}`);
    return 0;
  } catch (error) {
    const message = errorMessage(error);
    console.error(`migrate: failed: ${scrub(message, secrets)}`);
    return 1;
  }
}

process.exitCode = await main();
