// The theme the visitor chose (app.js toggles it), applied before the page first paints.
(() => {
  const theme = localStorage.getItem("katsuo.theme");
  if (theme === "light" || theme === "dark") document.documentElement.dataset.theme = theme;
})();
