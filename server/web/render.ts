import type { Response } from 'express';
import type { VNode } from 'preact';
import { render } from 'preact-render-to-string';

/** Sends a page: preact renders to a string on the server and escapes every text and attribute value. */
export function renderPage(res: Response, page: VNode, status = 200): void {
  res.status(status).type('html').send(`<!doctype html>${render(page)}`);
}
