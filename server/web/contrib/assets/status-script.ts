/**
 * The status page's script (part of contrib.js): reads the token from the fragment (never sent to the
 * server as part of a URL), asks the status API with it, shows the steps, the progress, a rejection
 * reason, and withdraws consent after a confirmation. Polls while the clip is being prepared.
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
  var ORDER = ['received', 'processing', 'in_review', 'approved', 'releasing', 'released'];
  var timer = null;
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
    withdrawn.hidden = status.status !== 'withdrawn';
    withdraw.hidden = status.status === 'withdrawn';
    clearTimeout(timer);
    if (status.status === 'received' || status.status === 'processing') timer = setTimeout(load, 3000);
  }

  function api(path, method) {
    return fetch('/api/submissions/' + id + path, { method: method, headers: { Authorization: 'Bearer ' + token, Accept: 'application/json' }, cache: 'no-store', referrerPolicy: 'no-referrer' })
      .then(function (r) { return r.json().then(function (body) { return { ok: r.ok, status: r.status, body: body }; }); });
  }
  function load() {
    api('/status', 'GET').then(function (r) {
      if (r.ok) show(r.body);
      else if (r.status === 404) { message.textContent = say('status.notFound'); withdraw.hidden = true; }
      else timer = setTimeout(load, 5000);
    }).catch(function () { timer = setTimeout(load, 5000); });
  }

  var ask = document.getElementById('withdraw-confirm');
  var start = document.getElementById('withdraw-start');
  start.addEventListener('click', function () { ask.hidden = false; document.getElementById('withdraw-no').focus(); });
  document.getElementById('withdraw-no').addEventListener('click', function () { ask.hidden = true; start.focus(); });
  document.getElementById('withdraw-yes').addEventListener('click', function () {
    api('/withdraw', 'POST').then(function (r) {
      ask.hidden = true;
      if (r.ok) { show(r.body); withdrawn.focus && withdrawn.focus(); }
    });
  });
  load();
})();
`;
