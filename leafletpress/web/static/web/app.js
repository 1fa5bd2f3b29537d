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
  text.append(link, " (wat je typte, moet je daarna opnieuw invullen).");
  banner.append(text);
  document.getElementById("inhoud").prepend(banner);
});
