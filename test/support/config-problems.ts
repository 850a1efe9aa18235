// The configuration's problems for an environment: none when it loads, else ConfigError's one line per problem.
import { ConfigError, loadConfig } from '../../src/config.js';

export function configProblems(env: NodeJS.ProcessEnv, argv: readonly string[] = []): readonly string[] {
  try {
    loadConfig(env, argv);
    return [];
  } catch (e) {
    if (e instanceof ConfigError) return e.problems;
    throw e;
  }
}
