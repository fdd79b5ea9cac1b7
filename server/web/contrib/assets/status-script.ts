/**
 * The status page's script (part of contrib.js): reads the token from the fragment (never sent to the
 * server as part of a URL), asks the status API with it, shows the steps, the progress, a rejection
 * reason, what withdrawing means in this state, and withdraws consent after a confirmation.
 * It follows the clip while the page is open: every 3 s while the clip is being prepared; otherwise the
 * wait grows by half after each answer that changes nothing (3 s, 4.5 s, … at most a minute) and starts
 * again at 3 s when the state moves, or at once when the tab comes back into view. It stops at a state
 * nothing but the contributor can move (released, rejected, withdrawn), and says while it follows.
 */
export const statusScript = String.raw`
(function () {
  var section = document.getElementById('status');
  if (!section) return;
  var config = JSON.parse(section.getAttribute('data-config'));
  var M = config.messages;
  function say(key, values) {
    return (M[key] || key).replace(/\{(\w+)\}/g, function (whole, name) { return values && values[name] !== undefined ? String(values[name]) : whole; });
  }
  var id = section.getAttribute('data-id');
  var token = location.hash.slice(1);
  var message = document.getElementById('status-message');
  var description = document.getElementById('status-description');
  var clipTitle = document.getElementById('status-clip');
  var steps = document.getElementById('status-steps');
  var bar = document.getElementById('status-progress');
  var reason = document.getElementById('status-reason');
  var withdrawn = document.getElementById('status-withdrawn');
  var withdraw = document.getElementById('withdraw');
  var live = document.getElementById('status-live');
  var withdrawHelp = document.getElementById('withdraw-help');
  var withdrawAsk = document.getElementById('withdraw-ask');
  var ORDER = ['received', 'processing', 'in_review', 'approved', 'releasing', 'released'];
  var FINAL = ['released', 'rejected', 'withdrawn'];
  var FIRST = 3000, MOST = 60000;
  var timer = null, delay = FIRST, last = null, done = false;
  // The state the contributor withdrew the clip from on this page (what the confirmation then says).
  var withdrewFrom = null;
  if (!/^[\w-]{20,100}$/.test(token)) { message.textContent = say('status.noToken'); return; }

  function show(status) {
    message.textContent = say('status.now', { state: status.status === 'processing' && status.progress !== null
      ? say('status.progress', { percent: Math.round(status.progress) })
      : say('status.' + (status.status === 'releasing' ? 'approved' : status.status)) });
    // What the state means, in the page's language (the API's own description is English).
    description.textContent = say('status.about.' + status.status);
    description.hidden = !M['status.about.' + status.status];
    clipTitle.textContent = status.title ? say('status.clipTitle', { title: status.title }) : '';
    clipTitle.hidden = !status.title;
    var at = ORDER.indexOf(status.status);
    steps.hidden = at < 0;
    steps.querySelectorAll('li').forEach(function (li) {
      var i = ORDER.indexOf(li.getAttribute('data-step'));
      li.className = i < at ? 'done' : '';
      if (i === at || (status.status === 'releasing' && li.getAttribute('data-step') === 'approved')) li.setAttribute('aria-current', 'step');
      else li.removeAttribute('aria-current');
    });
    bar.hidden = status.status !== 'processing' || status.progress === null;
    if (!bar.hidden) bar.value = status.progress;
    reason.hidden = !(status.status === 'rejected' && status.rejection);
    if (!reason.hidden) reason.textContent = say('status.reason', { reason: status.rejection.reason });
    // What withdrawing means now: before publication the clip is deleted; once published, copies already
    // posted or downloaded are out of the campaign's reach, and the page says so.
    var group = status.status === 'released' ? 'released' : status.status === 'approved' || status.status === 'releasing' ? 'approved' : status.status === 'rejected' ? 'rejected' : '';
    withdrawHelp.textContent = say(group ? 'status.withdrawHelp.' + group : 'status.withdrawHelp');
    withdrawAsk.textContent = say(status.status === 'released' ? 'status.withdrawAsk.released' : 'status.withdrawAsk');
    withdrawn.hidden = !(status.status === 'withdrawn' && withdrewFrom);
    if (!withdrawn.hidden) withdrawn.textContent = say(withdrewFrom === 'released' ? 'status.withdrawDone.released' : 'status.withdrawDone');
    withdraw.hidden = status.status === 'withdrawn';
    var busy = status.status === 'received' || status.status === 'processing';
    delay = busy || status.status !== last ? FIRST : Math.min(MOST, delay * 1.5);
    last = status.status;
    follow(FINAL.indexOf(status.status) < 0);
  }

  /** The next look at the status (or none, at a final state); the note that the page updates itself shows while it does. */
  function follow(more) {
    clearTimeout(timer);
    timer = null;
    done = !more;
    live.hidden = !more;
    if (more) timer = setTimeout(load, delay);
  }
  function retry() {
    delay = Math.min(MOST, delay * 2);
    follow(true);
  }
  document.addEventListener('visibilitychange', function () {
    if (document.visibilityState === 'visible' && !done && timer !== null) { clearTimeout(timer); timer = null; load(); }
  });

  function api(path, method) {
    return fetch('/api/submissions/' + id + path, { method: method, headers: { Authorization: 'Bearer ' + token, Accept: 'application/json' }, cache: 'no-store', referrerPolicy: 'no-referrer' })
      .then(function (r) { return r.json().then(function (body) { return { ok: r.ok, status: r.status, body: body }; }); });
  }
  function load() {
    api('/status', 'GET').then(function (r) {
      if (r.ok) show(r.body);
      else if (r.status === 404) { message.textContent = say('status.notFound'); withdraw.hidden = true; follow(false); }
      else retry();
    }).catch(retry);
  }

  var ask = document.getElementById('withdraw-confirm');
  var start = document.getElementById('withdraw-start');
  start.addEventListener('click', function () { ask.hidden = false; document.getElementById('withdraw-no').focus(); });
  document.getElementById('withdraw-no').addEventListener('click', function () { ask.hidden = true; start.focus(); });
  document.getElementById('withdraw-yes').addEventListener('click', function () {
    var from = last;
    api('/withdraw', 'POST').then(function (r) {
      ask.hidden = true;
      if (r.ok) { withdrewFrom = from || 'unknown'; show(r.body); withdrawn.focus && withdrawn.focus(); }
    });
  });
  load();
})();
`;
