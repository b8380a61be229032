/** With BullMQ a worker finds a hook by agent id and name: an agent's background hook names must be unique. */
import type { BackgroundHookOwner } from '../background/executor.ts';
import { HookchainConfigError } from '../errors.ts';

/** Throws a `HookchainConfigError` naming both hooks when two background hooks of `agent` share a name. */
export function checkHookNames(agent: BackgroundHookOwner, where = `Agent "${agent.name}"`): void {
  const seen = new Map<string, 'pre' | 'post'>();
  for (const hook of agent.backgroundHooks) {
    const first = seen.get(hook.name);
    if (first !== undefined) {
      throw new HookchainConfigError(
        'DUPLICATE_HOOK_NAME',
        `${where}: the background ${first}-hook and the background ${hook.phase}-hook are both named "${hook.name}"; ` +
          'BullMQ workers find a hook by its name, so background hook names must be unique per agent. ' +
          "Rename one with hook({ name: '…', runInBackground: true })",
      );
    }
    seen.set(hook.name, hook.phase);
  }
}
