/** The contributors' pages' stylesheet: phone first, large touch targets, contrast above WCAG AA. */
export const contribStyles = `
:root { --ink: #16161a; --muted: #4d4d57; --line: #8a8a96; --soft: #e4e4ea; --bg: #fbfbfd; --accent: #a3001a; --ok: #1a5e30; --bad: #9b0d0d; }
* { box-sizing: border-box; }
html { -webkit-text-size-adjust: 100%; }
body { margin: 0; font: 17px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--ink); background: var(--bg); }
/* Contributors' and campaigns' text is hostile: one unbroken word must wrap, not widen the page. */
body { overflow-wrap: anywhere; }
select, input, textarea, video, img { max-width: 100%; }
a { color: var(--accent); }
:focus-visible { outline: 3px solid #1c4fd6; outline-offset: 2px; }
.skip { position: absolute; left: -999px; } .skip:focus { left: 8px; top: 8px; background: #fff; padding: 6px 10px; z-index: 2; }
nav.langs { background: #fff; border-bottom: 1px solid var(--soft); }
nav.langs ul { list-style: none; display: flex; flex-wrap: wrap; gap: 4px; margin: 0 auto; padding: 6px 12px; max-width: 40rem; }
nav.langs a { display: inline-block; padding: 8px 10px; min-height: 44px; text-decoration: none; border-radius: 6px; }
nav.langs a[aria-current] { background: var(--accent); color: #fff; font-weight: 600; }
main { max-width: 40rem; margin: 0 auto; padding: 12px 16px 24px; }
h1 { font-size: 1.5rem; line-height: 1.25; margin: 12px 0; }
img.logo { display: block; max-height: 80px; max-width: 60%; width: auto; height: auto; margin: 4px 0 0; }
.prompt { font-size: 1.08rem; white-space: pre-line; }
h2 { font-size: 1.25rem; margin: 16px 0 8px; }
fieldset { border: 1px solid var(--soft); border-radius: 8px; margin: 16px 0; padding: 8px 12px 12px; background: #fff; }
legend { font-weight: 700; font-size: 1.1rem; padding: 0 4px; }
.field { margin: 12px 0; }
label { display: block; font-weight: 600; margin-bottom: 4px; }
.req { font-weight: 400; color: var(--muted); font-size: 0.9rem; }
.help { color: var(--muted); font-size: 0.92rem; margin: 0 0 6px; }
input[type=text], input[type=email], textarea { width: 100%; padding: 12px; font: inherit; border: 1px solid var(--line); border-radius: 6px; background: #fff; color: var(--ink); }
input.short { max-width: 6rem; text-transform: uppercase; }
input[type=file] { width: 100%; padding: 10px 0; font: inherit; }
.check { display: flex; gap: 10px; align-items: flex-start; margin: 12px 0; }
.check input { width: 24px; height: 24px; flex: none; margin: 2px 0 0; }
.check label { font-weight: 400; margin: 0; }
.hp { position: absolute; left: -9999px; width: 1px; height: 1px; overflow: hidden; }
button { font: inherit; font-weight: 600; min-height: 48px; padding: 10px 20px; border-radius: 8px; border: 2px solid var(--accent); background: var(--accent); color: #fff; cursor: pointer; }
button.secondary { background: #fff; color: var(--accent); }
button:disabled { opacity: 0.6; cursor: default; }
#send { width: 100%; }
.preview { width: 100%; max-height: 60vh; background: #000; border-radius: 6px; margin: 8px 0; }
.progress progress { width: 100%; height: 18px; }
.timeline svg { display: block; border: 1px solid #888; border-radius: 4px; }
.tl-none { fill: #f0f0f0; }
.tl-kept { fill: #2e7d32; }
.tl-cut { fill: #222; }
.tl-changed { fill: #d35400; }
.timeline-list { margin: 6px 0 12px; padding-left: 20px; font-size: 0.92rem; }
.notice { padding: 12px; border-radius: 6px; background: #eef3fb; border: 1px solid #9bb4dc; }
.error { padding: 10px 12px; border-radius: 6px; background: #fdeeee; border: 1px solid #d88; color: var(--bad); }
.fixed { font-weight: 600; }
.receipt { background: #fff; border: 2px solid var(--ok); border-radius: 8px; padding: 12px 16px; margin: 16px 0; }
.receipt h2 { color: var(--ok); }
.label { font-weight: 600; margin-bottom: 2px; }
.secret { font-family: ui-monospace, monospace; font-size: 0.95rem; word-break: break-all; background: var(--bg); border: 1px dashed var(--line); padding: 8px; border-radius: 6px; }
.qr svg { width: 200px; height: 200px; }
.status-list { list-style: none; padding: 0; }
.status-list li { padding: 6px 0 6px 28px; position: relative; color: var(--muted); }
.status-list li[aria-current] { color: var(--ink); font-weight: 700; }
.status-list li::before { content: "○"; position: absolute; left: 4px; }
.status-list li.done::before { content: "●"; color: var(--ok); }
.status-list li[aria-current]::before { content: "◉"; color: var(--accent); }
/* Action reports (issue 18). */
select, input[type=time] { width: 100%; min-height: 48px; padding: 10px 12px; font: inherit; border: 1px solid var(--line); border-radius: 6px; background: #fff; color: var(--ink); }
input[type=time] { max-width: 10rem; }
.photo-list { padding-left: 20px; }
.tile-map svg { width: 100%; height: auto; background: #fff; border: 1px solid var(--soft); border-radius: 6px; }
.summary-numbers { font-size: 1.3rem; } .summary-numbers strong { font-size: 2rem; }
.summary-days, .summary-photos { list-style: none; padding: 0; display: flex; flex-wrap: wrap; gap: 8px 16px; }
.summary-photos li { flex: 1 1 14rem; } .summary-photos img { width: 100%; height: auto; border-radius: 6px; }
.summary-table { border-collapse: collapse; width: 100%; } .summary-table th, .summary-table td { text-align: left; padding: 6px 8px; border-bottom: 1px solid var(--soft); }
.report-link { padding: 12px; border-radius: 8px; background: #fff; border: 1px solid var(--soft); }
footer { max-width: 40rem; margin: 0 auto; padding: 8px 16px 32px; color: var(--muted); font-size: 0.9rem; border-top: 1px solid var(--soft); }
@media (min-width: 720px) { h1 { font-size: 2rem; } main { padding-top: 24px; } #send { width: auto; } }
`;
