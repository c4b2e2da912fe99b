// What must work before the deferred scripts have run, so it loads, undeferred, in <head>.
(() => {
  // The theme the visitor chose (app.js toggles it), applied before the page first paints.
  const theme = localStorage.getItem("katsuo.theme");
  if (theme === "light" || theme === "dark") document.documentElement.dataset.theme = theme;

  // The pages allow no inline handlers (Content-Security-Policy): buttons name the dialog they
  // open (data-open-dialog="id") or close the dialog they are in (data-close-dialog). Listening
  // on the document from here, a button works from the moment it is shown, not only once the
  // deferred scripts have run.
  document.addEventListener("click", (event) => {
    const opener = event.target.closest("[data-open-dialog]");
    if (opener) document.getElementById(opener.dataset.openDialog)?.showModal();
    if (event.target.closest("[data-close-dialog]")) event.target.closest("dialog")?.close();
  });
})();
