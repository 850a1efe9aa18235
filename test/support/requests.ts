// The requests' tests: agencies inserted straight, and POST /v1/requests as a multipart body sent with fetch.
import type { Queryable } from '../../src/adapters/postgres/postgres-messages.js';
import { multipartBody, type Part } from './multipart-body.js';

export async function insertAgencies(sql: Queryable, codes: readonly string[], active = true): Promise<void> {
  for (const code of codes) {
    await sql.query(`INSERT INTO agencies (code, name, active) VALUES ($1, $1, $2) ON CONFLICT (code) DO UPDATE SET active = $2`, [code, active]);
  }
}

export interface FiledAnswer {
  readonly status: number;
  readonly headers: Headers;
  readonly body: Record<string, any>;
}

/** POST /v1/requests with `parts` in their order (the file, if any, where it is in the list). */
export async function fileRequest(apiUrl: string, token: string, parts: readonly Part[]): Promise<FiledAnswer> {
  const { body, contentType } = multipartBody(parts);
  const res = await fetch(`${apiUrl}/v1/requests`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': contentType }, body });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: (text ? JSON.parse(text) : {}) as Record<string, any> };
}

/** The text parts of a request: its type and comment, and a link or an agency. */
export function fieldsOf(f: { type: string; comment?: string; linkId?: string; agency?: string }): Part[] {
  const parts: Part[] = [{ name: 'type', value: f.type }, { name: 'comment', value: f.comment ?? 'The meter shows an error.' }];
  if (f.linkId !== undefined) parts.push({ name: 'linkId', value: f.linkId });
  if (f.agency !== undefined) parts.push({ name: 'agency', value: f.agency });
  return parts;
}
