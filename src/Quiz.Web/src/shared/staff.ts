import { reactive } from "vue";
import { http, HttpError, resetAntiforgery, enableAntiforgery } from "./http";
import type { Account } from "./types";

// The signed-in staff account of the dashboard and the admin console (cookie authentication).

export const staff = reactive({ account: null as Account | null, checked: false });

export async function loadAccount() {
  enableAntiforgery();
  try {
    staff.account = await http<Account>("/api/accounts/me");
  } catch (error) {
    if (!(error instanceof HttpError) || error.status !== 401) throw error;
    staff.account = null;
  } finally {
    staff.checked = true;
  }
}

export async function login(name: string, password: string) {
  staff.account = await http<Account>("/api/accounts/login", { body: { name, password } });
  resetAntiforgery(); // the token is bound to the user: the anonymous one no longer holds
}

export async function logout() {
  await http("/api/accounts/logout", { method: "POST" }).catch(() => undefined);
  resetAntiforgery();
  staff.account = null;
}
