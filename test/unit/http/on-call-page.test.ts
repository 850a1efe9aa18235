// The dashboard's browser files, read as text: the page has no inline script or style (its CSP would refuse them),
// no file writes markup from strings or keeps tokens anywhere but in memory, and the served list is the folder.
import { readdir, readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { DASHBOARD_ASSETS } from '../../../http/routes/on-call-page-routes.js';

const DIR = new URL('../../../http/dashboard/', import.meta.url);
const read = (file: string) => readFile(new URL(file, DIR), 'utf8');

describe('the on-call dashboard files', () => {
  it('serves exactly the files of http/dashboard (the page itself at /admin)', async () => {
    const files = (await readdir(DIR)).filter((f) => f !== 'index.html').sort();
    expect(Object.keys(DASHBOARD_ASSETS).sort()).toEqual(files);
  });

  it('has no inline script, style or event handler in the page', async () => {
    const html = await read('index.html');
    for (const script of html.match(/<script\b[^>]*>/g) ?? []) expect(script).toMatch(/\bsrc="\/admin\/assets\/[a-z-]+\.js"/);
    expect(html).not.toMatch(/<style\b|\sstyle=|\son[a-z]+=/i);
  });

  it('never turns strings into markup or code, and keeps tokens out of storage, cookies and URLs', async () => {
    const scripts = Object.keys(DASHBOARD_ASSETS).filter((f) => f.endsWith('.js'));
    expect(scripts.length).toBeGreaterThan(3);
    for (const file of scripts) {
      const code = await read(file);
      expect(code, file).not.toMatch(/innerHTML|outerHTML|insertAdjacentHTML|document\.write|\beval\(|new Function|setAttribute\(\s*['"]on|localStorage|sessionStorage|document\.cookie|indexedDB/);
      // A token only ever travels in the Authorization header.
      expect(code, file).not.toMatch(/[?&](access_?token|token)=/i);
    }
  });
});
