// The accounts service: one object over the account operations (registration, sign-in, PIN changes, profile, deletion).
import type { Caller } from '../contracts/caller.js';
import type { AccountDeps } from './account-deps.js';
import { deleteAccount } from './account-deletion.js';
import type { LoginKind } from './auth-watch.js';
import { changePin, confirmPinReset, requestPinReset } from './pin-changes.js';
import { profile, setPushToken, updateProfile } from './profile.js';
import { register, verifyPhone } from './registration.js';
import type { Profile, TokenPair } from '../contracts/accounts-messages.js';
import { agentLogin, failedLogin, login, logout, refresh, type Device } from './sign-in.js';


export class AccountService {
  constructor(private readonly deps: AccountDeps) {}

  register(input: { phone: string; firstName: string; lastName: string; pin: string }, ip: string): Promise<{ phone: string; codeExpiresInSeconds: number }> {
    return register(this.deps, input, ip);
  }

  verifyPhone(input: { phone: string; code: string; pin: string }, ip: string): Promise<{ verified: true }> {
    return verifyPhone(this.deps, input, ip);
  }

  failedLogin(kind: LoginKind): (e: unknown) => never {
    return failedLogin(this.deps, kind);
  }

  login(input: { phone: string; pin: string } & Device, ip: string): Promise<TokenPair & { user: Profile }> {
    return login(this.deps, input, ip);
  }

  agentLogin(input: { login: string; password: string } & Device, ip: string): Promise<TokenPair & { user: Profile }> {
    return agentLogin(this.deps, input, ip);
  }

  refresh(refreshToken: string): Promise<TokenPair> {
    return refresh(this.deps, refreshToken);
  }

  logout(caller: Caller, all: boolean): Promise<{ ended: number }> {
    return logout(this.deps, caller, all);
  }

  requestPinReset(input: { phone: string }, ip: string): Promise<{ phone: string; codeExpiresInSeconds: number }> {
    return requestPinReset(this.deps, input, ip);
  }

  confirmPinReset(input: { phone: string; code: string; newPin: string }, ip: string): Promise<{ reset: true }> {
    return confirmPinReset(this.deps, input, ip);
  }

  changePin(caller: Caller, input: { currentPin: string; newPin: string }): Promise<{ changed: true }> {
    return changePin(this.deps, caller, input);
  }

  deleteAccount(caller: Caller, input: { pin: string }): Promise<void> {
    return deleteAccount(this.deps, caller, input);
  }

  profile(caller: Caller): Promise<Profile> {
    return profile(this.deps, caller);
  }

  updateProfile(caller: Caller, patch: { firstName?: string | undefined; lastName?: string | undefined; email?: string | null | undefined }): Promise<Profile> {
    return updateProfile(this.deps, caller, patch);
  }

  setPushToken(caller: Caller, pushToken: string | null): Promise<{ pushToken: string | null }> {
    return setPushToken(this.deps, caller, pushToken);
  }
}
