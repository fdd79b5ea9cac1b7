import { createHash } from 'node:crypto';
import { facesScript } from './faces-script';

/**
 * The staff pages' only stylesheet and script, served by the server itself (no CDN) from memory. They
 * are files of their own (not inline), so a Content-Security-Policy of `default-src 'self'` holds.
 * Kept in TypeScript modules so the build carries them without a copy step.
 */

const styles = `
:root { --ink: #1b1b1f; --muted: #5a5a66; --line: #d6d6de; --bg: #fafafc; --accent: #b3001b; --ok: #1d6b36; --bad: #a11; }
* { box-sizing: border-box; }
body { margin: 0; font: 16px/1.5 system-ui, sans-serif; color: var(--ink); background: var(--bg); }
/* Contributors' and campaigns' text is hostile: one unbroken word must wrap, not widen the page (also inside tables and grids). */
body { overflow-wrap: anywhere; }
select, input, textarea, video, img, table { max-width: 100%; }
pre { white-space: pre-wrap; }
a { color: var(--accent); }
.skip { position: absolute; left: -999px; } .skip:focus { left: 8px; top: 8px; background: #fff; padding: 4px 8px; }
header.top { display: flex; flex-wrap: wrap; align-items: center; gap: 8px 16px; padding: 10px 16px; background: #fff; border-bottom: 1px solid var(--line); }
header.top .brand { font-weight: 700; margin-right: auto; }
header.top nav { display: flex; flex-wrap: wrap; gap: 4px 14px; align-items: center; }
header.top form { margin: 0; }
header.top .langs form { display: flex; flex-wrap: wrap; gap: 4px 10px; align-items: baseline; font-size: 0.9rem; }
header.top .langs strong { font-weight: 600; }
header.top .langs button { font-size: inherit; }
main { max-width: 64rem; margin: 0 auto; padding: 16px; }
main.narrow { max-width: 28rem; }
h1 { font-size: 1.5rem; margin: 8px 0 16px; }
h2 { font-size: 1.2rem; margin: 24px 0 8px; }
label { display: block; font-weight: 600; margin: 12px 0 4px; }
input[type=email], input[type=password], input[type=text], select { width: 100%; padding: 10px; font-size: 1rem; border: 1px solid var(--line); border-radius: 6px; background: #fff; }
input.code { font-size: 1.6rem; letter-spacing: 0.3em; max-width: 12rem; font-variant-numeric: tabular-nums; }
button { font-size: 1rem; padding: 10px 16px; border-radius: 6px; border: 1px solid var(--accent); background: var(--accent); color: #fff; cursor: pointer; margin-top: 16px; }
button.link { background: none; border: none; color: var(--accent); padding: 0; margin: 0; text-decoration: underline; }
button.secondary { background: #fff; color: var(--accent); }
button.danger { background: var(--bad); border-color: var(--bad); }
.help { color: var(--muted); font-size: 0.9rem; }
.notice { padding: 10px 12px; border-radius: 6px; background: #eef6f0; border: 1px solid #b9dcc3; }
.notice > p { margin: 0; }
.notice form.undo { margin: 8px 0 0; display: flex; flex-wrap: wrap; gap: 8px; align-items: center; }
.error { padding: 10px 12px; border-radius: 6px; background: #fdeeee; border: 1px solid #f0b8b8; color: var(--bad); }
.secret { font-family: ui-monospace, monospace; font-size: 1.1rem; word-break: break-all; background: #fff; border: 1px dashed var(--line); padding: 8px; border-radius: 6px; }
.qr svg { width: 200px; height: 200px; background: #fff; }
table { border-collapse: collapse; width: 100%; background: #fff; }
th, td { text-align: left; padding: 8px; border-bottom: 1px solid var(--line); vertical-align: top; }
td.details { font-family: ui-monospace, monospace; font-size: 0.85rem; word-break: break-word; }
.inline-form { display: flex; flex-wrap: wrap; gap: 6px; align-items: end; }
.inline-form select, .inline-form input { width: auto; min-width: 8rem; max-width: 100%; }
.inline-form > * { min-width: 0; max-width: 100%; }
.inline-form button { margin-top: 0; }
input[type=datetime-local] { padding: 8px; font-size: 1rem; border: 1px solid var(--line); border-radius: 6px; }
img.logo-preview { max-height: 96px; width: auto; height: auto; background: #fff; border: 1px solid var(--line); }
main.wide { max-width: 80rem; }
/* Action reports (issue 18). */
ul.report-photos li form button { margin-top: 4px; }
.bars { list-style: none; padding: 0; margin: 0; }
.bars li { display: grid; grid-template-columns: minmax(6rem, 14rem) 1fr 3rem; gap: 8px; align-items: center; margin: 4px 0; }
.bars meter { width: 100%; height: 1rem; }
.tally { display: flex; flex-wrap: wrap; gap: 12px; list-style: none; padding: 0; }
.tally li { background: #fff; border: 1px solid var(--line); border-radius: 6px; padding: 8px 14px; min-width: 8rem; }
.tally strong { display: block; font-size: 1.8rem; }
.tile-map svg { width: 100%; height: auto; max-width: 56rem; background: #fff; border: 1px solid var(--line); border-radius: 6px; }
textarea { width: 100%; padding: 10px; font: inherit; border: 1px solid var(--line); border-radius: 6px; }
.visually-hidden { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
form.filters { display: flex; flex-wrap: wrap; gap: 0 12px; align-items: end; margin-bottom: 16px; }
form.filters .field { flex: 1 1 9rem; }
form.filters .actions { display: flex; gap: 12px; align-items: center; flex: 0 0 auto; }
form.filters button { margin-top: 0; }
.badge { display: inline-block; margin: 2px 4px 0 0; padding: 0 6px; border-radius: 10px; background: #fff3d6; border: 1px solid #e8c46a; font-size: 0.8rem; }
td.state { font-size: 0.9rem; }
fieldset { border: 1px solid var(--line); border-radius: 6px; padding: 8px 12px 12px; margin: 16px 0; background: #fff; }
.buttons { display: flex; flex-wrap: wrap; gap: 12px; }
.review { display: grid; grid-template-columns: minmax(0, 3fr) minmax(0, 2fr); gap: 24px; }
.player video { width: 100%; max-height: 70vh; background: #000; border-radius: 6px; }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: 4px 12px; margin: 0; }
dl.facts dt { font-weight: 600; color: var(--muted); }
dl.facts dd { margin: 0; word-break: break-word; }
dd.message { white-space: pre-wrap; }
.check { display: flex; flex-wrap: wrap; gap: 4px 16px; padding: 8px 0; border-bottom: 1px solid var(--line); }
.check > span { flex: 1 1 100%; }
.check label { display: inline; font-weight: 400; margin: 0; }
.decide { margin-top: 16px; }
@media (max-width: 900px) { .review { grid-template-columns: 1fr; } }
.inline-form label { margin: 0; }
ul.gallery { list-style: none; padding: 0; display: grid; grid-template-columns: repeat(auto-fill, minmax(16rem, 1fr)); gap: 16px; }
ul.gallery li.clip { background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 10px; }
ul.gallery img { width: 100%; max-height: 18rem; object-fit: contain; background: #222; border-radius: 4px; }
ul.gallery h2 { margin: 8px 0 4px; font-size: 1.05rem; }
ul.files { padding-left: 1.1rem; margin: 6px 0; }
label.pick { display: inline; margin: 0; font-weight: 700; }
details.post pre { white-space: pre-wrap; font-size: 0.9rem; }
/* The face-mask editor: outlines over the protected preview (the masks themselves are burned into it). */
/* The stage is exactly the picture's size (no letterbox), so the outlines' percentages fall on the picture. */
.faces-stage { position: relative; width: fit-content; max-width: 100%; }
.faces-stage video { display: block; width: auto; max-width: 100%; max-height: 70vh; background: #000; border-radius: 6px; }
.faces-overlay { position: absolute; inset: 0; cursor: crosshair; touch-action: none; }
.faces-overlay .mask { position: absolute; border: 2px solid #ffd400; box-shadow: 0 0 0 1px #000; color: #000; font-size: 0.75rem; }
.faces-overlay .mask.moderator { border-color: #00e0ff; background: rgba(0, 224, 255, 0.15); }
.faces-overlay .mask.selected { border-width: 3px; border-color: #ff2fd0; }
.faces-controls { display: flex; flex-wrap: wrap; gap: 8px; align-items: center; }
.faces-controls button { margin-top: 8px; }
table.boxes input { width: 5.5rem; padding: 6px; font-size: 0.95rem; border: 1px solid var(--line); border-radius: 4px; }
table.boxes tr.selected { outline: 3px solid #ff2fd0; }
.table-scroll { overflow-x: auto; max-width: 100%; }
@media (max-width: 640px) {
  table.stack thead { display: none; }
  table.stack tr { display: block; border-bottom: 2px solid var(--line); padding: 6px 0; }
  table.stack td { display: block; border: none; padding: 2px 8px; }
  table.stack td::before { content: attr(data-label) ": "; font-weight: 600; color: var(--muted); }
}
`;

const script = `
'use strict';
// Copy buttons: <button data-copy="element-id" data-copied="Copied" hidden>. Without the script the
// text is still there to select by hand; the button only appears when it can work.
document.querySelectorAll('button[data-copy]').forEach(function (button) {
  var target = document.getElementById(button.getAttribute('data-copy'));
  if (!target || !navigator.clipboard) return;
  button.hidden = false;
  button.addEventListener('click', function () {
    navigator.clipboard.writeText(target.textContent.trim()).then(function () {
      button.textContent = button.getAttribute('data-copied');
    });
  });
});
// A protected clip whose protected version is still being drawn: its notice (data-protection-wait, the URL of the
// clip's protection state) asks every few seconds, and says so once it is ready (data-ready-text). Without the
// script the notice stays, and approval is refused with the same reason until it is ready.
document.querySelectorAll('[data-protection-wait]').forEach(function (notice) {
  var url = notice.getAttribute('data-protection-wait');
  var delay = 3000;
  var started = Date.now();
  function ask() {
    fetch(url, { credentials: 'same-origin', headers: { accept: 'application/json' } })
      .then(function (response) { return response.ok ? response.json() : null; })
      .catch(function () { return null; })
      .then(function (state) {
        if (state && state.ready) {
          notice.textContent = notice.getAttribute('data-ready-text');
          notice.classList.add('ready');
          return;
        }
        delay = Math.min(delay * 1.5, 20000);
        if (Date.now() - started < 60 * 60 * 1000) setTimeout(ask, delay);
      });
  }
  setTimeout(ask, delay);
});
// Keyboard shortcuts: an element with data-key="a" is clicked (a button or a link), focused (a field) or
// played (a video) when that key is pressed outside a field. Without the script every action is a
// plain button or link; the hint about the keys only appears when they work.
(function () {
  var keyed = document.querySelectorAll('[data-key]');
  if (!keyed.length) return;
  document.querySelectorAll('[data-shortcuts]').forEach(function (hint) { hint.hidden = false; });
  document.addEventListener('keydown', function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    var target = event.target;
    if (target && /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName) && target.type !== 'radio' && target.type !== 'checkbox') return;
    var element = document.querySelector('[data-key="' + event.key.toLowerCase() + '"]');
    if (!element) return;
    event.preventDefault();
    if (element.tagName === 'VIDEO') {
      element.focus();
      if (element.paused) element.play(); else element.pause();
    } else if (element.tagName === 'SELECT' || element.tagName === 'TEXTAREA') {
      element.focus();
    } else {
      element.click();
    }
  });
})();
// Review answers (the checklist, the rejection's reason and note) are kept for the tab in sessionStorage
// as they are given, so a session that ends mid-review loses nothing: after the login leads back to the
// clip, they are put back and the page says so. A decision that went through (?decided=<id>) forgets them.
(function () {
  var store;
  try { store = window.sessionStorage; } catch (e) { return; }
  if (!store) return;
  var decided = new URLSearchParams(location.search).get('decided');
  if (decided) store.removeItem('review-answers:' + decided);
  var forms = document.querySelectorAll('form[data-keep]');
  if (!forms.length) return;
  var key = 'review-answers:' + forms[0].getAttribute('data-keep');
  function fields() {
    var all = [];
    forms.forEach(function (form) { all = all.concat(Array.prototype.slice.call(form.querySelectorAll('input[type=radio], select, textarea'))); });
    return all;
  }
  function save() {
    var answers = {};
    fields().forEach(function (field) {
      if (field.type === 'radio') { if (field.checked) answers[field.name] = field.value; }
      else answers[field.name] = field.value;
    });
    try { store.setItem(key, JSON.stringify(answers)); } catch (e) { /* full or refused: the form still works */ }
  }
  var saved = null;
  try { saved = JSON.parse(store.getItem(key) || 'null'); } catch (e) { saved = null; }
  if (saved && typeof saved === 'object') {
    var restored = false;
    fields().forEach(function (field) {
      if (!Object.prototype.hasOwnProperty.call(saved, field.name) || typeof saved[field.name] !== 'string') return;
      var value = saved[field.name];
      if (field.type === 'radio') {
        if (field.value === value && !field.checked) { field.checked = true; restored = true; }
      } else if (field.value !== value && (field.tagName !== 'SELECT' || field.querySelector('option[value="' + CSS.escape(value) + '"]'))) {
        field.value = value;
        restored = true;
      }
    });
    if (restored) document.querySelectorAll('[data-restored]').forEach(function (note) { note.hidden = false; });
  }
  forms.forEach(function (form) {
    form.addEventListener('change', save);
    form.addEventListener('input', save);
  });
})();
// One-time code fields: spaces some apps show (123 456) are dropped as they are typed.
document.querySelectorAll('input.code').forEach(function (input) {
  input.addEventListener('input', function () {
    input.value = input.value.replace(/\\D/g, '').slice(0, 6);
  });
});
`;

export interface Asset {
  body: string;
  type: string;
  etag: string;
}

function asset(body: string, type: string): Asset {
  return { body, type, etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 16)}"` };
}

export const ASSETS: Record<string, Asset> = {
  'staff.css': asset(styles, 'text/css; charset=utf-8'),
  'staff.js': asset(script, 'text/javascript; charset=utf-8'),
  'faces.js': asset(facesScript, 'text/javascript; charset=utf-8'),
};
