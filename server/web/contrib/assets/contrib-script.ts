/**
 * The campaign page's script (plain ES2017, no build step, no framework). Kept as a string in a TypeScript
 * module so the build carries it; String.raw keeps backslashes as written (the code avoids backticks and
 * template placeholders). What it does: remembers the chosen language in localStorage (no cookie), checks
 * the clip's type, size and duration before anything is sent, shows a preview, sends the form, shows
 * progress, then the receipt.
 */
export const contribScript = String.raw`
'use strict';
(function () {
  // Language: a choice made with the switcher is remembered in this browser only (localStorage, no cookie).
  var langLinks = document.querySelectorAll('nav.langs a[data-lang]');
  langLinks.forEach(function (a) {
    a.addEventListener('click', function () {
      try { localStorage.setItem('lang', a.getAttribute('data-lang')); } catch (e) { /* private mode */ }
      a.href = a.href.split('#')[0] + location.hash; // the status page's token stays in the fragment
    });
  });
  try {
    var remembered = localStorage.getItem('lang');
    var here = new URL(location.href);
    if (remembered && !here.searchParams.has('lang') && remembered !== document.documentElement.lang) {
      var link = document.querySelector('nav.langs a[data-lang="' + remembered.replace(/[^a-z-]/g, '') + '"]');
      if (link) { location.replace(link.href + location.hash); return; }
    }
  } catch (e) { /* storage unavailable: the browser's language stays */ }

  var form = document.getElementById('upload');
  if (!form) {
    // No form (a closed campaign, or the status page): make the receipt block's link a real one anyway.
    return;
  }
  var config = JSON.parse(form.getAttribute('data-config'));
  var M = config.messages;
  var numbers = new Intl.NumberFormat(config.lang, { maximumFractionDigits: 1 });
  function say(key, values) {
    return (M[key] || key).replace(/\{(\w+)\}/g, function (whole, name) {
      if (!values || values[name] === undefined) return whole;
      return typeof values[name] === 'number' ? numbers.format(values[name]) : values[name];
    });
  }
  function mb(bytes) { return say('unit.mb', { n: Math.max(0.1, Math.round(bytes / 104857.6) / 10) }); }
  function duration(seconds) {
    return seconds < 120 ? say('unit.seconds', { n: Math.ceil(seconds) }) : say('unit.minutes', { n: Math.ceil(seconds / 60) });
  }

  var video = document.getElementById('video');
  var subtitles = document.getElementById('subtitles');
  var preview = document.getElementById('preview');
  var videoError = document.getElementById('video-error');
  var formError = document.getElementById('form-error');
  var send = document.getElementById('send');
  var progress = document.getElementById('progress');
  var bar = document.getElementById('progress-bar');
  var progressText = document.getElementById('progress-text');
  var VIDEO_EXT = /\.(mp4|m4v|mov|3gp|3g2|webm|mkv|avi|ts|m2ts|mts)$/i;
  var previewUrl = null;
  var clip = null; // { file, checked: Promise<string|null> } — the error message, or null when fine

  function showError(el, message) { el.textContent = message || ''; el.hidden = !message; }

  /** Type and size at once; duration from the browser's own reading of the file (when it can read it). */
  function checkClip(file) {
    if (!file) return Promise.resolve(say('check.missingVideo'));
    if (file.size === 0) return Promise.resolve(say('check.empty'));
    if (!(/^video\//.test(file.type) || VIDEO_EXT.test(file.name))) return Promise.resolve(say('check.type'));
    if (file.size > config.maxBytes) return Promise.resolve(say('check.size', { size: mb(file.size), max: mb(config.maxBytes) }));
    return new Promise(function (resolve) {
      if (previewUrl) URL.revokeObjectURL(previewUrl);
      previewUrl = URL.createObjectURL(file);
      var done = false;
      function finish(message) { if (!done) { done = true; resolve(message); } }
      preview.onloadedmetadata = function () {
        var d = preview.duration;
        if (isFinite(d) && d > config.maxDurationSeconds + 0.5) finish(say('check.duration', { length: duration(d), max: duration(config.maxDurationSeconds) }));
        else finish(null);
      };
      // A format the browser cannot play (AVI, some MKV): the server checks the duration instead.
      preview.onerror = function () { preview.hidden = true; finish(null); };
      setTimeout(function () { finish(null); }, 5000);
      preview.src = previewUrl;
      preview.hidden = false;
    });
  }

  function chooseClip(file, name) {
    clip = { file: file, name: name || file.name, checked: checkClip(file) };
    clip.checked.then(function (message) { showError(videoError, message); });
  }
  video.addEventListener('change', function () {
    if (video.files[0]) { video.required = true; chooseClip(video.files[0]); }
  });
  form.chooseClip = chooseClip; // the recorder hands its recording over here

  // Recording in the browser: camera and microphone, a live view, stop, preview, record again. MP4
  // (H.264 + Opus) where the browser records it (it has a duration); WebM otherwise (the server remuxes).
  var recorder = document.getElementById('recorder');
  if (recorder && navigator.mediaDevices && navigator.mediaDevices.getUserMedia && window.MediaRecorder) {
    recorder.hidden = false;
    var live = document.getElementById('live');
    var recStart = document.getElementById('record-start');
    var recStop = document.getElementById('record-stop');
    var recTime = document.getElementById('record-time');
    var mediaRecorder = null;
    var recTimer = null;
    var TYPES = ['video/mp4;codecs=avc1,opus', 'video/mp4', 'video/webm;codecs=vp8,opus', 'video/webm'];
    var recType = TYPES.filter(function (type) { return MediaRecorder.isTypeSupported(type); })[0] || '';
    recStart.addEventListener('click', function () {
      showError(videoError, null);
      navigator.mediaDevices.getUserMedia({ video: { facingMode: 'user' }, audio: true }).then(function (stream) {
        var chunks = [];
        live.srcObject = stream;
        live.hidden = false;
        preview.hidden = true;
        live.play().catch(function () { /* shown without autoplay */ });
        mediaRecorder = new MediaRecorder(stream, recType ? { mimeType: recType } : undefined);
        mediaRecorder.ondataavailable = function (e) { if (e.data && e.data.size) chunks.push(e.data); };
        mediaRecorder.onstop = function () {
          clearInterval(recTimer);
          stream.getTracks().forEach(function (track) { track.stop(); });
          live.hidden = true;
          live.srcObject = null;
          var type = (mediaRecorder.mimeType || recType || 'video/webm').split(';')[0];
          var ext = /mp4/.test(type) ? 'mp4' : 'webm';
          // A File with a unique name: two recordings of the same size are never taken for one upload.
          var file = new File(chunks, 'recording-' + Date.now() + '.' + ext, { type: type, lastModified: Date.now() });
          video.value = '';
          video.required = false; // the recording is the clip
          chooseClip(file);
          recStart.textContent = say('record.again');
          recStart.hidden = false;
          recStop.hidden = true;
          recStart.focus();
        };
        var began = Date.now();
        recTime.textContent = say('record.recording', { time: duration(0) });
        recTimer = setInterval(function () {
          var seconds = (Date.now() - began) / 1000;
          recTime.textContent = say('record.recording', { time: duration(seconds) });
          if (seconds >= config.maxDurationSeconds - 0.5) mediaRecorder.stop();
        }, 500);
        mediaRecorder.start(1000);
        recStart.hidden = true;
        recStop.hidden = false;
        recStop.focus();
      }).catch(function () { showError(videoError, say('record.denied')); });
    });
    recStop.addEventListener('click', function () {
      if (mediaRecorder && mediaRecorder.state !== 'inactive') mediaRecorder.stop();
      recTime.textContent = '';
    });
  }

  function checkSubtitles() {
    var file = subtitles.files[0];
    if (!file) return null;
    if (!/\.(srt|vtt)$/i.test(file.name)) return say('check.subtitleType');
    if (file.size > config.subtitleMaxBytes) return say('check.subtitleSize', { size: mb(file.size), max: mb(config.subtitleMaxBytes) });
    return null;
  }

  function fields() {
    var statements = [];
    form.querySelectorAll('input[name=consent-statement]:checked').forEach(function (box) { statements.push(box.value); });
    var out = { campaign: config.campaign, language: config.lang };
    ['organisation', 'country', 'title', 'message', 'contactEmail', 'website'].forEach(function (name) {
      var el = form.elements[name];
      if (el && el.value !== '') out[name] = el.value;
    });
    ['protectFace', 'protectVoice', 'protectCard'].forEach(function (name) {
      var box = form.elements[name];
      if (box && box.checked) out[name] = 'true';
    });
    if (config.linkToken) out.link = config.linkToken;
    out.consent = JSON.stringify({ version: config.consentVersion, language: config.lang, statements: statements });
    return out;
  }

  var started = 0;
  var base = null;
  function onProgress(sent, total) {
    if (base === null || sent < base) { base = sent; started = Date.now(); }
    progress.hidden = false;
    bar.value = total ? Math.round((sent / total) * 100) : 0;
    var text = say('form.progress', { sent: mb(sent), total: mb(total) });
    var elapsed = (Date.now() - started) / 1000;
    if (sent > base && elapsed > 2 && sent < total) text += ' · ' + say('form.timeLeft', { time: duration(((total - sent) * elapsed) / (sent - base)) });
    if (sent >= total) text = say('form.processing');
    progressText.textContent = text;
  }

  /** The problem+json answer, said in the page's language. */
  function problemMessage(problem) {
    var code = problem && problem.code;
    if (code === 'invalid_fields' && problem.errors) {
      return say('error.invalid_fields', { fields: problem.errors.map(function (e) { return M['field.' + e.field] || e.field; }).join(', ') });
    }
    if (code && M['error.' + code]) return say('error.' + code);
    return say('error.unknown', { code: code || 'network' });
  }

  /** The existing multipart API (POST /api/submissions), fields before the files. */
  function sendMultipart(values, file, name, subtitleFile) {
    return new Promise(function (resolve, reject) {
      var data = new FormData();
      Object.keys(values).forEach(function (key) { data.append(key, values[key]); });
      data.append('video', file, name);
      if (subtitleFile) data.append('subtitles', subtitleFile);
      var xhr = new XMLHttpRequest();
      xhr.open('POST', '/api/submissions');
      xhr.setRequestHeader('Accept', 'application/json');
      xhr.upload.onprogress = function (e) { onProgress(e.loaded, e.total); };
      xhr.onload = function () {
        var body = null;
        try { body = JSON.parse(xhr.responseText); } catch (e) { /* not JSON */ }
        if (xhr.status === 202 && body) resolve(body);
        else reject(new Error(problemMessage(body || { code: 'http_' + xhr.status })));
      };
      xhr.onerror = function () { reject(new Error(say('error.network'))); };
      xhr.send(data);
    });
  }
  form.sendMultipart = sendMultipart;

  /** A token only this device knows; the server gets its SHA-256 (a resumable upload's receipt needs no answer to arrive). */
  function newToken() {
    var bytes = new Uint8Array(32);
    crypto.getRandomValues(bytes);
    var text = '';
    bytes.forEach(function (b) { text += String.fromCharCode(b); });
    return btoa(text).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
  }
  function sha256Hex(text) {
    return crypto.subtle.digest('SHA-256', new TextEncoder().encode(text)).then(function (digest) {
      return Array.prototype.map.call(new Uint8Array(digest), function (b) { return ('0' + b.toString(16)).slice(-2); }).join('');
    });
  }
  function store(key, value) { try { if (value === null) localStorage.removeItem(key); else localStorage.setItem(key, value); } catch (e) { /* private mode */ } }
  function stored(key) { try { return localStorage.getItem(key); } catch (e) { return null; } }

  /** Resolves once the submission exists (its status answers); retried a few times while it does not yet. */
  function confirmed(id, token, attempt) {
    var delays = [0, 1000, 3000, 5000, 10000];
    return new Promise(function (resolve) { setTimeout(resolve, delays[attempt]); }).then(function () {
      return fetch('/api/submissions/' + id + '/status', { headers: { Authorization: 'Bearer ' + token, Accept: 'application/json' }, cache: 'no-store' });
    }).then(function (r) {
      if (r.ok) return;
      return r.json().catch(function () { return { code: 'http_' + r.status }; }).then(function (problem) { throw problem; });
    }, function () { throw { code: 'network' }; }).catch(function (problem) {
      if (attempt + 1 < delays.length) return confirmed(id, token, attempt + 1);
      throw problem && problem.code === 'submission_not_found' ? { code: 'database_unavailable' } : problem;
    });
  }

  /**
   * The clip through tus (resumable): an interrupted upload continues where the server's copy stops, also
   * after a reload (the same file picked again) or a change of network. A subtitle file is announced at
   * creation and sent (PUT /tus/<id>/subtitles, with the status token) before the clip's first bytes.
   */
  function sendTus(values, file, name, subtitleFile) {
    if (!window.tus || !window.tus.isSupported || !window.crypto || !crypto.subtle) return sendMultipart(values, file, name, subtitleFile);
    var identity = 'solidarity-upload:' + config.campaign + ':' + name + ':' + file.size + ':' + (file.lastModified || 0) +
      (subtitleFile ? ':subtitles:' + subtitleFile.size : '');
    if (subtitleFile) values.subtitles = 'follow';
    return new Promise(function (resolve, reject) {
      var token = null;
      var upload = null;
      var waitingForNetwork = false;
      var subtitlesSent = !subtitleFile;
      var subtitleRefusal = null;
      /** The subtitle file, once, before the first PATCH (tus-js-client waits for this promise). */
      function sendSubtitles(req) {
        if (subtitlesSent || req.getMethod() !== 'PATCH') return;
        return fetch(upload.url + '/subtitles', {
          method: 'PUT',
          headers: { Authorization: 'Bearer ' + token, 'Content-Type': 'application/octet-stream', Accept: 'application/json' },
          body: subtitleFile,
        }).then(function (r) {
          if (r.ok) { subtitlesSent = true; return; }
          return r.json().catch(function () { return { code: 'http_' + r.status }; }).then(function (problem) {
            if (r.status >= 400 && r.status < 500) subtitleRefusal = problem;
            throw new Error('subtitles: ' + r.status);
          });
        });
      }
      function again() {
        if (!waitingForNetwork) return;
        waitingForNetwork = false;
        progressText.textContent = say('form.resuming');
        upload.start();
      }
      window.addEventListener('online', again);
      function finish() { window.removeEventListener('online', again); }
      upload = new window.tus.Upload(file, {
        endpoint: '/tus',
        // One request for the whole clip (as the multipart API sends it): the server keeps whatever arrived
        // before a cut, so nothing is sent twice, and there is no round trip per chunk.
        chunkSize: Infinity,
        retryDelays: [0, 1000, 3000, 5000, 10000, 20000],
        removeFingerprintOnSuccess: true,
        metadata: values,
        onBeforeRequest: sendSubtitles,
        onShouldRetry: function (error) {
          if (subtitleRefusal) return false;
          var status = error.originalResponse ? error.originalResponse.getStatus() : 0;
          // 408: the request stalled and was cut off; what arrived is kept, carry on from there.
          return (!(status >= 400 && status < 500) || status === 408 || status === 409 || status === 423) && navigator.onLine !== false;
        },
        onProgress: function (sent, total) { onProgress(sent, total); },
        onError: function (error) {
          if (subtitleRefusal) {
            finish();
            store(identity, null);
            upload.abort(true).catch(function () { /* removed when it expires */ });
            reject(new Error(problemMessage(subtitleRefusal)));
            return;
          }
          var response = error.originalResponse;
          var status = response ? response.getStatus() : 0;
          // 409/423: the server holds more than this request knew (a request cut off, then re-sent by the
          // browser) or is still storing it: not a refusal, carry on from the server's offset.
          if (status >= 400 && status < 500 && status !== 409 && status !== 423 || status === 503) {
            var body = null;
            try { body = JSON.parse(response.getBody()); } catch (e) { /* not JSON */ }
            finish();
            // 503 (storage or database down, also at the very end): the server keeps what arrived, so sending
            // the same file again carries on (and only finishes the upload if every byte is there).
            if (status !== 503) store(identity, null);
            reject(new Error(problemMessage(body || { code: 'http_' + status })));
            return;
          }
          // The network went away: carry on when it comes back (tus-js-client does not retry while offline).
          waitingForNetwork = true;
          progressText.textContent = say('form.resuming');
          if (navigator.onLine) setTimeout(again, 2000);
        },
        onSuccess: function () {
          finish();
          var id = /\/tus\/([a-f0-9]{24})$/.exec(upload.url || '');
          // The server says the upload is complete only once its submission exists; the receipt is shown
          // when the status endpoint confirms it (a proxy's cached or stray answer is not a receipt).
          confirmed(id && id[1], token, 0).then(function () {
            store(identity, null);
            resolve({ id: id && id[1], statusToken: token });
          }, function (problem) {
            reject(new Error(problemMessage(problem)));
          });
        },
      });
      upload.findPreviousUploads().then(function (previous) {
        var kept = stored(identity);
        if (previous.length > 0 && kept) {
          token = kept;
          // Every request about the upload after its creation carries the token (the server checks its hash).
          upload.options.headers = { Authorization: 'Bearer ' + token };
          upload.resumeFromPreviousUpload(previous[0]);
          form.setAttribute('data-resumed', 'true');
          progressText.textContent = say('form.resuming');
          upload.start();
          return;
        }
        token = newToken();
        return sha256Hex(token).then(function (hash) {
          store(identity, token);
          values.statusTokenHash = hash;
          upload.options.metadata = values;
          upload.options.headers = { Authorization: 'Bearer ' + token };
          upload.start();
        });
      }).catch(function () { reject(new Error(say('error.network'))); });
    });
  }
  form.sendTus = sendTus;

  // The receipts of this tab (sessionStorage: gone with the tab, never sent anywhere), so Back or a reload
  // shows the private links again; with them the organisation and country, filled in for another clip.
  var KEEP = 'solidarity-receipts:' + location.pathname;
  function isReceiptLink(link) {
    return typeof link === 'string' && link.indexOf(location.origin + '/s/') === 0 && /^\/s\/[a-f0-9]{24}#[\w-]{20,100}$/.test(link.slice(location.origin.length));
  }
  function kept() {
    var saved = null;
    try { saved = JSON.parse(sessionStorage.getItem(KEEP) || 'null'); } catch (e) { return null; }
    if (!saved || !Array.isArray(saved.links)) return null;
    saved.links = saved.links.filter(isReceiptLink);
    return saved.links.length ? saved : null;
  }
  function keep(saved) { try { sessionStorage.setItem(KEEP, JSON.stringify(saved)); } catch (e) { /* private mode: the link is on screen */ } }

  // Leaving while a clip is being sent loses the upload: the browser asks first.
  function warnLeaving(event) { event.preventDefault(); event.returnValue = ''; return ''; }
  form.sending = function (on) {
    if (on) window.addEventListener('beforeunload', warnLeaving);
    else window.removeEventListener('beforeunload', warnLeaving);
  };

  function showReceipt(result) {
    var url = location.origin + '/s/' + result.id + '#' + result.statusToken;
    var saved = kept() || { links: [] };
    saved.links = saved.links.filter(function (link) { return link !== url; }).concat([url]).slice(-20);
    ['organisation', 'country'].forEach(function (name) { if (form.elements[name]) saved[name] = form.elements[name].value; });
    keep(saved);
    showReceiptOf(saved);
  }

  function showReceiptOf(saved) {
    var receipt = document.getElementById('receipt');
    var url = saved.links[saved.links.length - 1];
    var link = document.getElementById('receipt-link');
    link.textContent = url;
    link.href = url;
    var earlier = saved.links.slice(0, -1);
    var list = document.getElementById('receipt-earlier-list');
    list.textContent = '';
    earlier.forEach(function (before) {
      var item = document.createElement('li');
      var a = document.createElement('a');
      a.href = before;
      a.textContent = before;
      item.appendChild(a);
      list.appendChild(item);
    });
    document.getElementById('receipt-earlier').hidden = earlier.length === 0;
    form.hidden = true;
    receipt.hidden = false;
    receipt.focus();
    var copy = document.getElementById('receipt-copy');
    if (navigator.clipboard) {
      copy.hidden = false;
      copy.onclick = function () { navigator.clipboard.writeText(url).then(function () { copy.textContent = say('receipt.copied'); }); };
    }
    // The QR code is drawn from a path the server computes (the token goes only to this server).
    var qrBox = document.getElementById('receipt-qr');
    qrBox.textContent = '';
    fetch('/api/qr', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ text: url }) })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (qr) {
        if (!qr) return;
        var ns = 'http://www.w3.org/2000/svg';
        var svg = document.createElementNS(ns, 'svg');
        svg.setAttribute('viewBox', '0 0 ' + qr.size + ' ' + qr.size);
        svg.setAttribute('shape-rendering', 'crispEdges');
        svg.setAttribute('role', 'img');
        svg.setAttribute('aria-labelledby', 'receipt-qr-label');
        var bg = document.createElementNS(ns, 'rect');
        bg.setAttribute('width', qr.size); bg.setAttribute('height', qr.size); bg.setAttribute('fill', '#fff');
        var path = document.createElementNS(ns, 'path');
        path.setAttribute('d', qr.path); path.setAttribute('fill', '#000');
        svg.appendChild(bg); svg.appendChild(path);
        qrBox.appendChild(svg);
      })
      .catch(function () { /* the link is there to copy */ });
  }

  form.addEventListener('submit', function (event) {
    event.preventDefault();
    showError(formError, null);
    if (!form.checkValidity()) { form.reportValidity(); return; }
    if (!clip) { showError(videoError, say('check.missingVideo')); video.focus(); return; }
    var subtitleProblem = checkSubtitles();
    if (subtitleProblem) { showError(formError, subtitleProblem); subtitles.focus(); return; }
    clip.checked.then(function (problem) {
      if (problem) { showError(videoError, problem); video.focus(); return; }
      send.disabled = true;
      send.textContent = say('form.sending');
      base = null;
      onProgress(0, clip.file.size);
      var upload = form.sendTus || sendMultipart;
      form.sending(true);
      upload(fields(), clip.file, clip.name, subtitles.files[0] || null)
        .then(function (result) { form.sending(false); showReceipt(result); })
        .catch(function (error) {
          form.sending(false);
          showError(formError, error.message);
          send.disabled = false;
          send.textContent = form.getAttribute('data-submit-label') || send.textContent;
        });
    });
  });

  // Another clip: the same form again, with what is safe to keep (organisation, country) filled in and
  // said so; the title, message, e-mail, files and consent are asked again.
  var anotherButton = document.getElementById('receipt-another');
  if (anotherButton) anotherButton.addEventListener('click', function () {
    var saved = kept() || {};
    form.reset();
    ['organisation', 'country'].forEach(function (name) {
      if (form.elements[name] && typeof saved[name] === 'string') form.elements[name].value = saved[name];
    });
    clip = null;
    if (previewUrl) { URL.revokeObjectURL(previewUrl); previewUrl = null; }
    preview.removeAttribute('src');
    preview.hidden = true;
    video.required = true;
    showError(videoError, null);
    showError(formError, null);
    progress.hidden = true;
    send.disabled = false;
    send.textContent = form.getAttribute('data-submit-label') || send.textContent;
    document.getElementById('form-kept').hidden = false;
    document.getElementById('receipt').hidden = true;
    form.hidden = false;
    (form.elements.organisation && !form.elements.organisation.value ? form.elements.organisation : form.elements.title).focus();
  });
  form.setAttribute('data-submit-label', send.textContent);
  // Back, or a reload, in this tab: the receipt again (the form is one tap away).
  var earlierReceipts = kept();
  if (earlierReceipts) showReceiptOf(earlierReceipts);
  form.setAttribute('data-ready', 'true');
})();
`;
