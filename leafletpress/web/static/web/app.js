// A form marked data-een-keer is sent once: a double click on "Controleer de lijst" uploads
// one list, and the button says the work is under way (issue 24, item 9).
document.addEventListener("submit", (event) => {
  const form = event.target;
  if (!(form instanceof HTMLFormElement) || !form.matches("[data-een-keer]")) return;
  if (form.dataset.verzonden) {
    event.preventDefault();
    return;
  }
  form.dataset.verzonden = "1";
  const button = form.querySelector("button[type=submit]");
  if (button && button.dataset.bezig) {
    button.setAttribute("aria-disabled", "true");
    button.textContent = button.dataset.bezig;
  }
});

// Back to a page the browser kept: its forms can be sent again.
window.addEventListener("pageshow", (event) => {
  if (!event.persisted) return;
  for (const form of document.querySelectorAll("form[data-een-keer]")) {
    delete form.dataset.verzonden;
  }
});
