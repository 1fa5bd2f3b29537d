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

// What htmx asks the server (a choice on the form, a day's progress) may get no answer: no
// network, a server error, nothing within 15 s (htmx-config, base.html). The page says so until
// an answer comes; a progress page, which asks every second, after three misses in a row (with
// one machine of several down, every other one missed, and the banner came and went).
// Refused (403) because the session ended, a choice said nothing and changed nothing (issue 24,
// item 8): the page says so, with the way back, and a progress page stops asking (each question
// was refused and logged, every second).
function banner(id, ...content) {
  if (document.getElementById(id)) return;
  const element = document.createElement("div");
  element.id = id;
  element.className = "banner error";
  element.setAttribute("role", "alert");
  const text = document.createElement("p");
  text.append(...content);
  element.append(text);
  document.getElementById("inhoud").prepend(element);
}

let missed = 0; // progress questions without an answer, in a row
function unanswered(event) {
  if (event.detail.requestConfig.verb === "get" && ++missed < 3) return;
  banner("geen-antwoord", "leafletpress antwoordt niet: wat je hier ziet, is misschien niet "
    + "bijgewerkt. Probeer het opnieuw, of herlaad de pagina.");
}
// Refused: one explanation at a time, the latest (signed out, then in again in another tab)
const REFUSALS = ["afgemeld", "verlopen"];
function refused(id, ...content) {
  for (const other of REFUSALS) if (other !== id) document.getElementById(other)?.remove();
  banner(id, ...content);
}

document.addEventListener("htmx:sendError", unanswered);
document.addEventListener("htmx:timeout", unanswered);

document.addEventListener("htmx:responseError", (event) => {
  if (event.detail.xhr.status !== 403) return unanswered(event);
  const form = document.querySelector("form[data-bewaar]");
  const xhr = event.detail.xhr;
  if (xhr.getResponseHeader("X-Geweigerd") === "verlopen") {
    return expired(form, xhr.getResponseHeader("X-Account") === document.body.dataset.account);
  }
  const link = document.createElement("a");
  link.href = "/aanmelden/?next=" + encodeURIComponent(location.pathname);
  link.textContent = "Meld je opnieuw aan";
  link.addEventListener("click", () => keep(form)); // with what she typed since
  keep(form);
  refused("afgemeld", "Je bent afgemeld, omdat je leafletpress een tijd niet gebruikte. ", link,
    form ? ": wat je typte, staat daarna weer in het formulier." : ".");
});

// Signed in again meanwhile (in another tab): the page's CSRF token is of before, and every
// choice is refused. Loading it again brings a new one, and what she typed, as after signing
// in; not if someone else signed in. A button, not a link: a link opened in another tab left
// the mark here, and the next patient's form came back filled in with this one.
function expired(form, same) {
  const again = document.createElement("button");
  again.type = "button";
  again.className = "link";
  again.textContent = "Laad de pagina opnieuw";
  again.addEventListener("click", () => {
    if (same) keep(form, true);
    location.assign(location.pathname);
  });
  refused("verlopen", same
    ? "Deze pagina is verlopen: je meldde je intussen opnieuw aan, misschien in een ander tabblad. "
    : "Deze pagina is verlopen: iemand anders meldde zich intussen aan in deze browser. ",
  again, same && form ? ": wat je typte, staat er daarna weer." : ".");
}

document.addEventListener("htmx:beforeRequest", (event) => {
  const polling = event.detail.requestConfig.verb === "get";
  if (polling && document.getElementById("afgemeld")) event.preventDefault();
});

document.addEventListener("htmx:afterRequest", (event) => {
  if (!event.detail.successful) return;
  missed = 0;
  for (const id of ["geen-antwoord", ...REFUSALS]) document.getElementById(id)?.remove();
});

// What she typed survives signing in again (issue 24, item 8). A form marked data-bewaar is
// kept when it is sent, in this tab's sessionStorage only (a hospital PC is shared: nothing
// with a patient's name may outlive the tab, so never localStorage). The next page of the app
// forgets it, unless that page is the sign-in or the "afgemeld" page, which mark it (as does
// reloading an expired page from its banner); back on the form with the same account, a
// marked form is filled in again, once, and the page says so.
// Signing out with "Afmelden" forgets it at once.
const KEPT = "leafletpress-formulier";

function keep(form, signingIn = false) {
  if (!form) return;
  const values = {};
  for (const [name, value] of new FormData(form)) {
    if (name !== "csrfmiddlewaretoken" && typeof value === "string") values[name] = value;
  }
  const account = document.body.dataset.account;
  sessionStorage.setItem(KEPT, JSON.stringify({ path: location.pathname, account, values,
                                                signingIn }));
}

document.addEventListener("submit", (event) => {
  if (!(event.target instanceof HTMLFormElement)) return;
  if (event.target.matches("[data-bewaar]")) keep(event.target);
  if (event.target.matches(".signout")) sessionStorage.removeItem(KEPT); // she leaves the PC
});

function restore() {
  const kept = sessionStorage.getItem(KEPT);
  if (!kept) return;
  const { path, account, values, signingIn } = JSON.parse(kept);
  if ("afgemeld" in document.body.dataset) { // on the way back: sign-in, "Formulier verlopen"
    sessionStorage.setItem(KEPT, JSON.stringify({ path, account, values, signingIn: true }));
    return;
  }
  sessionStorage.removeItem(KEPT);
  // Only what came through signing in: when the page after a sent form had no time to forget
  // it (a busy PC), the next patient's form came back filled in with the last one.
  if (!signingIn) return;
  const form = document.querySelector("form[data-bewaar]");
  if (!form || path !== location.pathname || document.getElementById("fouten")) return;
  if (account !== document.body.dataset.account) return; // someone else signed in here
  for (const [name, value] of Object.entries(values)) {
    const fields = form.querySelectorAll(`[name="${CSS.escape(name)}"]`);
    if (!fields.length) carried.set(name, value); // the discharge fields: the page draws "voor"
    for (const field of fields) {
      if (field.type === "radio") {
        field.checked = field.value === value; // disabled, it is not sent: asked for below
        if (field.checked && field.disabled) unsent.set(name, value);
      } else if (field.tagName !== "SELECT" || offers(field, value)) field.value = value;
      else unsent.set(name, value); // a procedure of her leaflet: asked for with it, below
    }
  }
  const note = document.createElement("div");
  note.className = "banner info";
  note.setAttribute("role", "status");
  note.textContent = "Wat je typte, staat er weer. Kijk het na en maak de folder.";
  form.before(note);
}

const offers = (select, value) => [...select.options].some((option) => option.value === value);

// The choices that follow each other (leaflet -> variants -> campuses -> surgeons) come from
// the server, which answers from the form as it was sent. What is on screen must be what she
// chose, however fast she is or however slow the answer (a failed CI run, issue 28):
// - new choices work the moment they are on screen (htmx's defaultSettleDelay 0, base.html);
// - a later choice cancels the answer to an earlier one (hx-sync, _keuzes.html);
// - what she typed or chose while an answer was on its way is put back into the new fields;
// - the other moment's fields, off the page, keep what she typed there: each question carries
//   them and the answer draws them as sent;
// - a choice made before htmx had read the page, one the browser put back (Back), or one kept
//   over signing in again whose options the page does not have yet, asks for what follows.
const carried = new Map(); // the form's last values: those of fields off the page go along
const unsent = new Map(); // kept values whose options come with the next answer
let asking = null; // the form as it was when the question left

// A kept value goes with each question until an answer comes, unless she chooses herself
// (htmx's own "change" is a CustomEvent): then hers does.
document.addEventListener("change", (event) => {
  if (!(event instanceof CustomEvent)) unsent.delete(event.target.name);
}, true);

document.addEventListener("htmx:configRequest", (event) => {
  const form = event.detail.elt.closest("form");
  asking = form && { form, asked: new FormData(form) };
  if (!form) return;
  for (const [name, value] of asking.asked) carried.set(name, value);
  for (const [name, value] of carried) if (!asking.asked.has(name)) event.detail.parameters[name] = value;
  for (const [name, value] of unsent) event.detail.parameters[name] = value;
});

document.addEventListener("htmx:beforeSwap", () => {
  if (!asking) return;
  const { form, asked } = asking;
  asking.meanwhile = [...new FormData(form)].filter(([name, value]) => asked.get(name) !== value);
  const active = document.activeElement;
  if (active && active.form === form && active.type === "text") {
    asking.caret = { id: active.id, start: active.selectionStart, end: active.selectionEnd };
  }
});

document.addEventListener("htmx:afterSettle", () => {
  if (!asking || !asking.meanwhile) return;
  const { form, meanwhile, caret } = asking;
  asking = null; // once, though both blocks settle
  unsent.clear(); // the answer has their options
  for (const [name, value] of meanwhile) {
    const field = form.elements.namedItem(name);
    if (!field) carried.set(name, value); // taken off the page: it comes back as she left it
    if (!field || field.value === value) continue;
    if (field instanceof HTMLSelectElement && !offers(field, value)) continue;
    field.value = value; // of a radio group (RadioNodeList): checks the radio of that value
  }
  const active = caret && document.getElementById(caret.id);
  if (active && active === document.activeElement) active.setSelectionRange(caret.start, caret.end);
});

function askForWhatFollows() {
  if (!window.htmx) return;
  const asks = [...document.querySelectorAll("select[hx-post], [hx-post] input[type=radio]")];
  const shown = (select) => [...select.options].find((o) => o.defaultSelected) || select.options[0];
  const changed = asks.find((field) => field.type === "radio"
    ? field.checked !== field.defaultChecked
    : field.options.length > 0 && field.value !== shown(field).value);
  const ask = changed || (unsent.size ? asks.find((field) => field.tagName === "SELECT") : null);
  if (ask) htmx.trigger(ask, "change");
}

// This deferred script runs before DOMContentLoaded, when htmx reads the page; the browser puts
// back what was chosen on a page one returns to after "load", before "pageshow".
document.addEventListener("DOMContentLoaded", restore);
window.addEventListener("pageshow", askForWhatFollows);
