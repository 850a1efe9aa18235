// The accounts actor: one AccountService operation per message.
import type { AccountService } from '../../src/accounts/account-service.js';
import type { ActorBehaviour } from '../../src/actor-behaviour.js';
import type { AccountsMessage } from '../../src/contracts/accounts-messages.js';
import { serviceActor } from './service-actor.js';

export function accountsActor(service: () => AccountService): () => ActorBehaviour<AccountService, AccountsMessage> {
  return serviceActor<AccountService, AccountsMessage>({
    service,
    operations: {
      register: (s, m) => s.register(m.input, m.ip),
      'pin-reset': (s, m) => s.requestPinReset(m.input, m.ip),
      'pin-reset-confirm': (s, m) => s.confirmPinReset(m.input, m.ip),
      'change-pin': (s, m) => s.changePin(m.caller, m.input),
      'delete-account': (s, m) => s.deleteAccount(m.caller, m.input),
      'verify-phone': (s, m) => s.verifyPhone(m.input, m.ip),
      login: (s, m) => s.login(m.input, m.ip).catch(s.failedLogin('customer')),
      'agent-login': (s, m) => s.agentLogin(m.input, m.ip).catch(s.failedLogin('agent')),
      refresh: (s, m) => s.refresh(m.refreshToken),
      logout: (s, m) => s.logout(m.caller, m.all),
      profile: (s, m) => s.profile(m.caller),
      'update-profile': (s, m) => s.updateProfile(m.caller, m.patch),
      'set-push-token': (s, m) => s.setPushToken(m.caller, m.pushToken),
    },
  });
}
