/**
 * The action report form's and status page's script (part of contrib.js; plain ES2017, no framework). The form:
 * checks the photos (count, type by what the browser says, HEIC named, size) before anything is sent, makes a
 * status token in the browser (only its SHA-256 travels, so sending the fields again after a lost answer finds
 * the same report), sends the fields, then each photo in a request of its own, retried with a growing wait
 * when the connection fails (a bad connection resends one photo, never the report), then "submit", and shows
 * the private link `/r/<id>#<token>`. The status page asks `GET /api/reports/<id>/status` with the token from
 * the fragment and withdraws after a confirmation.
 */
export const reportScript = String.raw`
(function () {
  var form = document.getElementById('report');
  if (!form) return;
  var config = JSON.parse(form.getAttribute('data-config'));
  var M = config.messages;
  function say(key, values) {
    return (M[key] || key).replace(/\{(\w+)\}/g, function (whole, name) { return values && values[name] !== undefined ? String(values[name]) : whole; });
  }
  var send = document.getElementById('send');
  var progress = document.getElementById('progress');
  var bar = document.getElementById('progress-bar');
  var progressText = document.getElementById('progress-text');
  var formError = document.getElementById('form-error');
  var photosInput = document.getElementById('photos');
  var photosError = document.getElementById('photos-error');
  var refusals = document.getElementById('photo-refusals');
  var TYPES = ['image/jpeg', 'image/png', 'image/webp'];

  function photoProblems(files) {
    var problems = [];
    if (files.length > config.maxPhotos) problems.push(say('report.tooManyPhotos', { n: config.maxPhotos }));
    for (var i = 0; i < files.length; i++) {
      var f = files[i];
      if (/\.(heic|heif)$/i.test(f.name) || /hei[cf]/i.test(f.type)) problems.push(say('report.photoHeic', { name: f.name }));
      else if (TYPES.indexOf(f.type) < 0 && !/\.(jpe?g|png|webp)$/i.test(f.name)) problems.push(say('report.photoType', { name: f.name }));
      else if (f.size > config.maxBytes) problems.push(say('report.photoSize', { name: f.name, mb: Math.floor(config.maxBytes / 1048576) }));
    }
    return problems;
  }
  photosInput.addEventListener('change', function () {
    var problems = photoProblems(photosInput.files);
    photosError.textContent = problems.join(' ');
    photosError.hidden = problems.length === 0;
  });

  function base64url(bytes) {
    var s = '';
    for (var i = 0; i < bytes.length; i++) s += String.fromCharCode(bytes[i]);
    return btoa(s).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
  }
  function hex(buffer) {
    return Array.prototype.map.call(new Uint8Array(buffer), function (b) { return ('0' + b.toString(16)).slice(-2); }).join('');
  }
  function wait(ms) { return new Promise(function (resolve) { setTimeout(resolve, ms); }); }

  /** One request, tried again on a lost connection or an answer that says "later" (408, 425, 429, 5xx); at most 8 tries. */
  function request(method, path, body, headers) {
    var attempt = 0;
    function once() {
      attempt++;
      return fetch(path, { method: method, body: body, headers: headers, cache: 'no-store', referrerPolicy: 'no-referrer' }).then(function (r) {
        return r.json().catch(function () { return {}; }).then(function (json) {
          if ((r.status === 408 || r.status === 425 || r.status === 429 || r.status >= 500) && attempt < 8) return retry();
          return { ok: r.ok, status: r.status, body: json };
        });
      }, function () { return attempt < 8 ? retry() : Promise.reject(new Error('network')); });
    }
    function retry() {
      progressText.textContent = say('report.retrying');
      return wait(Math.min(30000, 1000 * Math.pow(2, attempt - 1))).then(once);
    }
    return once();
  }

  function fail(body) {
    var code = (body && body.code) || 'network';
    formError.textContent = M['error.' + code] ? say('error.' + code) : say('report.error', { code: code });
    formError.hidden = false;
    send.disabled = false;
    progress.hidden = true;
  }

  form.addEventListener('submit', function (event) {
    event.preventDefault();
    formError.hidden = true;
    if (!form.reportValidity()) return;
    var files = Array.prototype.slice.call(photosInput.files || []);
    var problems = photoProblems(files);
    if (problems.length) { photosError.textContent = problems.join(' '); photosError.hidden = false; photosInput.focus(); return; }
    var statements = Array.prototype.map.call(form.querySelectorAll('input[name="consent-statement"]:checked'), function (c) { return c.value; });
    var value = function (name) { var el = form.elements[name]; return el ? el.value.trim() : ''; };
    var fields = {
      campaign: config.campaign, language: config.lang, kind: value('kind'), date: value('date'), startTime: value('startTime') || null,
      city: value('city'), participants: value('participants'), partners: value('partners'), text: value('text'),
      consent: { version: config.consentVersion, language: config.lang, statements: statements }, photos: files.length
    };
    if (config.linkToken) { fields.link = config.linkToken; } else { fields.country = value('country'); fields.organisation = value('organisation'); }
    if (value('website')) fields.website = value('website');
    send.disabled = true;
    progress.hidden = false;
    bar.value = 0;
    progressText.textContent = say('report.sending');
    refusals.hidden = true;
    refusals.textContent = '';
    var token = null;
    var made = window.crypto && window.crypto.subtle
      ? (function () { token = base64url(crypto.getRandomValues(new Uint8Array(32))); return crypto.subtle.digest('SHA-256', new TextEncoder().encode(token)).then(function (d) { fields.statusTokenHash = hex(d); }); })()
      : Promise.resolve();
    var report;
    made.then(function () {
      return request('POST', '/api/reports', JSON.stringify(fields), { 'Content-Type': 'application/json', Accept: 'application/json' });
    }).then(function (r) {
      if (!r.ok) throw r.body;
      report = { id: r.body.id, token: token || r.body.statusToken };
      var chain = Promise.resolve();
      files.forEach(function (file, slot) {
        chain = chain.then(function () {
          progressText.textContent = say('report.sendingPhoto', { n: slot + 1, total: files.length });
          return request('PUT', '/api/reports/' + report.id + '/photos/' + slot, file, { Authorization: 'Bearer ' + report.token, 'Content-Type': 'application/octet-stream' }).then(function (p) {
            bar.value = Math.round(((slot + 1) / (files.length + 1)) * 100);
            if (!p.ok) {
              var li = document.createElement('li');
              li.textContent = say('report.photoRefused', { n: slot + 1, reason: (p.body && p.body.title) || p.status });
              refusals.appendChild(li);
              refusals.hidden = false;
            }
          });
        });
      });
      return chain;
    }).then(function () {
      return request('POST', '/api/reports/' + report.id + '/submit', undefined, { Authorization: 'Bearer ' + report.token, Accept: 'application/json' });
    }).then(function (r) {
      if (!r.ok) throw r.body;
      bar.value = 100;
      var link = location.origin + '/r/' + report.id + '?lang=' + encodeURIComponent(config.lang) + '#' + report.token;
      var a = document.getElementById('report-receipt-link');
      a.href = link;
      a.textContent = link;
      form.hidden = true;
      var receipt = document.getElementById('report-receipt');
      receipt.hidden = false;
      receipt.focus();
    }).catch(function (body) { fail(body && body.code ? body : null); });
  });
})();

(function () {
  var section = document.getElementById('report-status');
  if (!section) return;
  var M = JSON.parse(section.getAttribute('data-config')).messages;
  function say(key, values) {
    return (M[key] || key).replace(/\{(\w+)\}/g, function (whole, name) { return values && values[name] !== undefined ? String(values[name]) : whole; });
  }
  var id = section.getAttribute('data-id');
  var token = location.hash.slice(1);
  var message = document.getElementById('report-status-message');
  var photos = document.getElementById('report-status-photos');
  var reason = document.getElementById('report-status-reason');
  var withdraw = document.getElementById('report-withdraw');
  var timer = null;
  if (!/^[\w-]{20,100}$/.test(token)) { message.textContent = say('status.noToken'); return; }
  function api(path, method) {
    return fetch('/api/reports/' + id + path, { method: method, headers: { Authorization: 'Bearer ' + token, Accept: 'application/json' }, cache: 'no-store', referrerPolicy: 'no-referrer' })
      .then(function (r) { return r.json().then(function (body) { return { ok: r.ok, status: r.status, body: body }; }); });
  }
  function show(status) {
    message.textContent = say('report.status.' + status.status);
    photos.textContent = say('report.status.photos', { n: status.photos });
    photos.hidden = status.status === 'withdrawn';
    reason.hidden = !(status.status === 'rejected' && status.rejection);
    if (!reason.hidden) reason.textContent = say('status.reason', { reason: status.rejection.reason });
    withdraw.hidden = status.status === 'withdrawn';
    clearTimeout(timer);
    if (status.status === 'in_review' || status.status === 'receiving') timer = setTimeout(load, 15000);
  }
  function load() {
    api('/status', 'GET').then(function (r) {
      if (r.ok) show(r.body);
      else if (r.status === 404) { message.textContent = say('report.status.notFound'); withdraw.hidden = true; }
    }).catch(function () { timer = setTimeout(load, 15000); });
  }
  var ask = document.getElementById('report-withdraw-confirm');
  var start = document.getElementById('report-withdraw-start');
  start.addEventListener('click', function () { ask.hidden = false; document.getElementById('report-withdraw-no').focus(); });
  document.getElementById('report-withdraw-no').addEventListener('click', function () { ask.hidden = true; start.focus(); });
  document.getElementById('report-withdraw-yes').addEventListener('click', function () {
    api('/withdraw', 'POST').then(function (r) { ask.hidden = true; if (r.ok) show(r.body); });
  });
  load();
})();
`;
