/**
 * The signed-in session and every call to the API. The token lives in
 * sessionStorage (this tab only, gone when it closes), never in a URL, and
 * goes out as `Authorization: Bearer` on each request.
 */

const TOKEN_KEY = 'medtel.token';

export interface Me {
  sub: string;
  role: 'viewer' | 'technician' | 'clinician' | 'admin';
  permissions: string[];
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

let me: Me | null = null;
const signedOutListeners = new Set<(reason: string) => void>();

export const storedToken = (): string | null => sessionStorage.getItem(TOKEN_KEY);
export const currentUser = (): Me | null => me;
/** What the server says the role may do (GET /api/v1/me); the API refuses the rest anyway. */
export const can = (permission: string): boolean => me?.permissions.includes(permission) ?? false;
export const onSignedOut = (listener: (reason: string) => void) => signedOutListeners.add(listener);

/** Checks the token with the server and keeps it for this tab. */
export async function signIn(token: string): Promise<Me> {
  sessionStorage.setItem(TOKEN_KEY, token);
  try {
    me = await getJson<Me>('/api/v1/me');
    return me;
  } catch (err) {
    sessionStorage.removeItem(TOKEN_KEY);
    me = null;
    throw err;
  }
}

export function signOut(reason = ''): void {
  sessionStorage.removeItem(TOKEN_KEY);
  me = null;
  for (const l of signedOutListeners) l(reason);
}

/** fetch() with the bearer token; 401 signs out (expired or revoked token). */
export async function apiFetch(path: string, init: RequestInit = {}): Promise<Response> {
  const token = storedToken();
  const headers = new Headers(init.headers);
  if (token) headers.set('authorization', `Bearer ${token}`);
  const res = await fetch(path, { ...init, headers, cache: 'no-store' });
  if (res.status === 401 && me !== null) signOut('Your token was refused (expired or revoked): sign in again.');
  return res;
}

async function failure(res: Response): Promise<ApiError> {
  const body = (await res.json().catch(() => null)) as { message?: string } | null;
  return new ApiError(res.status, body?.message ?? `${res.status} ${res.statusText}`);
}

export async function getJson<T>(path: string): Promise<T> {
  const res = await apiFetch(path);
  if (!res.ok) throw await failure(res);
  return (await res.json()) as T;
}

/** POST a JSON body; `version` becomes `If-Match: "<version>"` (alerts, like every edit, are optimistic-locked). */
export async function postJson<T>(path: string, body: unknown, version?: number): Promise<{ status: number; body: T; location: string | null }> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (version !== undefined) headers['if-match'] = `"${version}"`;
  const res = await apiFetch(path, { method: 'POST', headers, body: JSON.stringify(body) });
  if (!res.ok) throw await failure(res);
  return { status: res.status, body: (await res.json()) as T, location: res.headers.get('location') };
}
