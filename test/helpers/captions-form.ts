import type { StaffClient } from './staff-client';

/** The caption editor's form for a set of rows, as the page sends it (repeated fields), with the client's CSRF token. */
export function rowsForm(client: StaffClient, lang: string, rows: Array<[string, string, string]>, extra: Array<[string, string]> = []): string {
  const form = new URLSearchParams({ _csrf: client.csrf(), lang });
  for (const [start, end, text] of rows) {
    form.append('start', start);
    form.append('end', end);
    form.append('text', text);
  }
  for (const [k, v] of extra) form.append(k, v);
  return form.toString();
}
