// Renders the API reference from the schema URL on #redoc (Redoc is vendored: no CDN).
(function () {
  const el = document.getElementById("redoc");
  if (!el || !window.Redoc) return;
  window.Redoc.init(el.dataset.spec, {
    expandResponses: "200",
    hideHostname: false,
    jsonSampleExpandLevel: 3,
    theme: { typography: { fontFamily: "system-ui, sans-serif", headings: { fontFamily: "system-ui, sans-serif" } } },
  }, el);
})();
