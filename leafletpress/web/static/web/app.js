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

// A choice that asks the server (htmx) and is refused because the session ended said nothing
// and changed nothing: now the page says so, with the way back (issue 24, item 8).
document.addEventListener("htmx:responseError", (event) => {
  if (event.detail.xhr.status !== 403 || document.getElementById("afgemeld")) return;
  const banner = document.createElement("div");
  banner.id = "afgemeld";
  banner.className = "banner error";
  banner.setAttribute("role", "alert");
  const text = document.createElement("p");
  text.textContent = "Je bent afgemeld, omdat je leafletpress een tijd niet gebruikte. ";
  const link = document.createElement("a");
  link.href = "/aanmelden/?next=" + encodeURIComponent(location.pathname);
  link.textContent = "Meld je opnieuw aan";
  text.append(link, ": wat je typte, staat daarna weer in het formulier.");
  keep(document.querySelector("form[data-bewaar]"));
  banner.append(text);
  document.getElementById("inhoud").prepend(banner);
});

// What she typed survives signing in again (issue 24, item 8). A form marked data-bewaar is
// kept when it is sent, in this tab's sessionStorage only (a hospital PC is shared: nothing
// with a patient's name may outlive the tab, so never localStorage). The next page of the app
// forgets it, unless that page is the sign-in or the "afgemeld" page; back on the form after
// signing in again with the same account, it is filled in again, once, and the page says so.
// Signing out with "Afmelden" forgets it at once.
const KEPT = "leafletpress-formulier";

function keep(form) {
  if (!form) return;
  const values = {};
  for (const [name, value] of new FormData(form)) {
    if (name !== "csrfmiddlewaretoken" && typeof value === "string") values[name] = value;
  }
  const account = document.body.dataset.account;
  sessionStorage.setItem(KEPT, JSON.stringify({ path: location.pathname, account, values }));
}

document.addEventListener("submit", (event) => {
  if (!(event.target instanceof HTMLFormElement)) return;
  if (event.target.matches("[data-bewaar]")) keep(event.target);
  if (event.target.matches(".signout")) sessionStorage.removeItem(KEPT); // she leaves the PC
});

function restore() {
  const kept = sessionStorage.getItem(KEPT);
  if (!kept || "afgemeld" in document.body.dataset) return;
  sessionStorage.removeItem(KEPT);
  const form = document.querySelector("form[data-bewaar]");
  const { path, account, values } = JSON.parse(kept);
  if (!form || path !== location.pathname || document.getElementById("fouten")) return;
  if (account !== document.body.dataset.account) return; // someone else signed in here
  for (const [name, value] of Object.entries(values)) {
    for (const field of form.querySelectorAll(`[name="${CSS.escape(name)}"]`)) {
      if (field.type === "radio") field.checked = field.value === value;
      else if (field.tagName !== "SELECT" || field.querySelector(`option[value="${CSS.escape(value)}"]`)) field.value = value;
    }
  }
  const banner = document.createElement("div");
  banner.className = "banner info";
  banner.setAttribute("role", "status");
  banner.textContent = "Wat je typte voor je afgemeld werd, staat er weer. Kijk het na en maak de folder.";
  form.before(banner);
}

if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", restore);
else restore();
