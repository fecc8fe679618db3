/**
 * The dashboard's only script, served at /assets/app.js (no inline script: the CSP allows
 * 'self' only). Progressive enhancement: every page works without it.
 */
export const APP_JS = `
(function () {
  'use strict';
  // "Select every item on this page" on a plan: shown only when script runs.
  var all = document.getElementById('select-all');
  if (all) {
    var picks = Array.prototype.slice.call(document.querySelectorAll('input.pick'));
    var holder = all.closest('label');
    if (holder && picks.length > 0) holder.hidden = false;
    all.addEventListener('change', function () {
      picks.forEach(function (p) { p.checked = all.checked; });
    });
    picks.forEach(function (p) {
      p.addEventListener('change', function () {
        all.checked = picks.every(function (q) { return q.checked; });
      });
    });
  }
})();
`;
