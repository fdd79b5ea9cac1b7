/**
 * The face-mask editor's script (server/web/pages/faces.pages.tsx), served as /staff/assets/faces.js. The page's
 * form is the truth and works without it; the script outlines every mask over the playing protected preview,
 * steps frame by frame (← →, Shift for a second), draws a new box by dragging over the picture or with "b", and
 * selects a box's row when its outline is clicked, so it can be moved (its numbers) or removed.
 */
export const facesScript = `
'use strict';
(function () {
  var stage = document.getElementById('faces-stage');
  if (!stage) return;
  var video = stage.querySelector('video');
  var overlay = document.getElementById('faces-overlay');
  var rows = document.getElementById('moderator-boxes');
  var timeOut = document.getElementById('faces-time');
  var data = JSON.parse(stage.getAttribute('data-samples') || '{}');
  var fps = Number(stage.getAttribute('data-fps')) || 25;
  var step = data.step || 0.1;
  overlay.hidden = false;
  document.querySelectorAll('[data-needs-script]').forEach(function (el) { el.hidden = false; });

  function num(input) { var v = Number(String(input.value).replace(',', '.')); return isFinite(v) ? v : NaN; }
  function kept(id) { var box = document.querySelector('input[name=keep][value="' + id + '"]'); return !box || box.checked; }
  function place(el, x, y, w, h) {
    el.style.left = (x * 100) + '%'; el.style.top = (y * 100) + '%';
    el.style.width = (w * 100) + '%'; el.style.height = (h * 100) + '%';
  }
  function draw() {
    var t = video.currentTime || 0;
    overlay.textContent = '';
    (data.masks || []).forEach(function (mask) {
      if (!kept(mask.id)) return;
      var sample = mask.boxes[Math.round(t / step)];
      if (!sample) return;
      var el = document.createElement('div');
      el.className = 'mask detector';
      el.title = mask.id;
      place(el, sample[1], sample[2], sample[3], sample[4]);
      overlay.appendChild(el);
    });
    rows.querySelectorAll('tr[data-box]').forEach(function (row, i) {
      var f = row.querySelectorAll('input[data-field]');
      var v = {}; f.forEach(function (input) { v[input.getAttribute('data-field')] = num(input); });
      if (!(t >= v.start && t <= v.end)) return;
      var el = document.createElement('div');
      el.className = 'mask moderator' + (row.classList.contains('selected') ? ' selected' : '');
      el.textContent = String(i + 1);
      place(el, v.x / 100, v.y / 100, v.w / 100, v.h / 100);
      el.addEventListener('click', function (event) { event.stopPropagation(); select(row); });
      overlay.appendChild(el);
    });
    timeOut.textContent = t.toFixed(2) + ' s';
  }
  function select(row) {
    rows.querySelectorAll('tr.selected').forEach(function (r) { r.classList.remove('selected'); });
    if (row) { row.classList.add('selected'); row.querySelector('input[data-field=x]').focus(); }
    draw();
  }
  function spareRow() {
    var all = rows.querySelectorAll('tr[data-box]');
    var last = all[all.length - 1];
    var empty = last && Array.prototype.every.call(last.querySelectorAll('input[data-field]'), function (i) { return i.value === ''; });
    if (empty) return last;
    var copy = last.cloneNode(true);
    copy.querySelectorAll('input').forEach(function (i) { i.value = ''; });
    copy.classList.remove('selected');
    last.parentNode.appendChild(copy);
    rows.querySelectorAll('tr[data-box]').forEach(function (row, i) { row.firstElementChild.firstChild.nodeValue = String(i + 1); });
    return copy;
  }
  function addBox(x, y, w, h) {
    var row = spareRow();
    var t = video.currentTime || 0;
    var values = { start: Math.max(0, t - 0.5).toFixed(2), end: (t + 2).toFixed(2), x: x.toFixed(1), y: y.toFixed(1), w: w.toFixed(1), h: h.toFixed(1) };
    row.querySelectorAll('input[data-field]').forEach(function (input) { input.value = values[input.getAttribute('data-field')]; });
    spareRow();
    select(row);
  }
  var start = null;
  overlay.addEventListener('pointerdown', function (event) {
    var r = overlay.getBoundingClientRect();
    start = { x: (event.clientX - r.left) / r.width, y: (event.clientY - r.top) / r.height };
    video.pause();
  });
  overlay.addEventListener('pointerup', function (event) {
    if (!start) return;
    var r = overlay.getBoundingClientRect();
    var end = { x: (event.clientX - r.left) / r.width, y: (event.clientY - r.top) / r.height };
    var x = Math.max(0, Math.min(start.x, end.x)), y = Math.max(0, Math.min(start.y, end.y));
    var w = Math.min(1, Math.max(start.x, end.x)) - x, h = Math.min(1, Math.max(start.y, end.y)) - y;
    start = null;
    if (w > 0.01 && h > 0.01) addBox(x * 100, y * 100, w * 100, h * 100);
  });
  function seek(by) { video.pause(); video.currentTime = Math.max(0, Math.min(video.duration || 0, (video.currentTime || 0) + by)); }
  document.getElementById('faces-back').addEventListener('click', function () { seek(-1 / fps); });
  document.getElementById('faces-forward').addEventListener('click', function () { seek(1 / fps); });
  document.getElementById('faces-add').addEventListener('click', function () { addBox(35, 25, 30, 40); });
  // The outlines lie over the player's own controls: play and pause from here (and with Space).
  document.getElementById('faces-play').addEventListener('click', function () { if (video.paused) video.play(); else video.pause(); });
  document.addEventListener('keydown', function (event) {
    var target = event.target;
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    if (target && /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName) && target.type !== 'checkbox') return;
    if (event.key === 'ArrowLeft' || event.key === 'ArrowRight') {
      event.preventDefault();
      seek((event.key === 'ArrowLeft' ? -1 : 1) * (event.shiftKey ? 1 : 1 / fps));
    } else if (event.key === 'b') { event.preventDefault(); addBox(35, 25, 30, 40); }
    else if (event.key === ' ') { event.preventDefault(); if (video.paused) video.play(); else video.pause(); }
  });
  rows.addEventListener('input', draw);
  document.querySelectorAll('input[name=keep]').forEach(function (box) { box.addEventListener('change', draw); });
  video.addEventListener('timeupdate', draw);
  video.addEventListener('seeked', draw);
  (function loop() { if (!video.paused) draw(); requestAnimationFrame(loop); })();
  draw();
})();
`;
