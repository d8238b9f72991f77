// Guarded traffic: refresh the panel every 5 s while the tab is visible (no framework).
(function () {
  var live = document.getElementById("live");
  if (!live) return;
  function refresh() {
    if (document.hidden) return;
    fetch(live.dataset.panel, { credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.text() : null; })
      .then(function (html) { if (html !== null) live.innerHTML = html; })
      .catch(function () {});
  }
  setInterval(refresh, 5000);
})();
