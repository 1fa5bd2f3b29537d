// The content editor (bewerk.html): saves what is typed, then asks for the check, the
// reading-level report and the preview of exactly that text. Nothing is evaluated: the
// server answers with escaped HTML (the findings) or JSON (saves, previews).
(function () {
  "use strict";
  const form = document.getElementById("editor");
  if (!form) return;
  const area = document.getElementById("tekst");
  const gutter = form.querySelector(".gutter");
  const status = document.getElementById("status");
  const conflict = document.getElementById("conflict");
  const findings = document.getElementById("bevindingen");
  const pages = document.getElementById("voorbeeld");
  const previewStatus = document.getElementById("voorbeeld-status");
  const token = form.querySelector("[name=csrfmiddlewaretoken]").value;
  const path = form.dataset.path;
  let revision = parseInt(form.dataset.revision, 10);
  let saved = area.value, timer = null, busy = false, again = false, stopped = false;
  // What is typed and not yet saved, in this tab only (a session that ended, a server that did
  // not answer): back on this page after signing in again, it is put back and saved.
  const UNSAVED = `leafletpress-concept:${path}`;
  const account = document.body.dataset.account;

  function remember() {
    sessionStorage.setItem(UNSAVED, JSON.stringify({account, revision, text: area.value}));
  }

  function signedOut() {
    stopped = true;
    conflict.hidden = false;
    conflict.textContent = "";
    const p = document.createElement("p");
    p.textContent = "Je bent afgemeld. Wat je typte, staat nog in dit venster: ";
    const link = document.createElement("a");
    link.href = "/aanmelden/?next=" + encodeURIComponent(location.pathname);
    link.textContent = "meld je opnieuw aan";
    p.append(link, ", dan komt het terug en wordt het bewaard.");
    conflict.append(p);
    status.textContent = "Niet bewaard: je bent afgemeld.";
  }

  function answered(answer) {  // false when the session ended: sent to sign in, or CSRF refused
    const toSignIn = answer.redirected && new URL(answer.url).pathname.startsWith("/aanmelden/");
    if (toSignIn || answer.status === 403) {
      signedOut();
      return false;
    }
    return true;
  }

  function post(url, body, json) {
    const headers = {"X-CSRFToken": token};
    if (json) headers["Content-Type"] = "application/json";
    return fetch(url, {method: "POST", headers: headers, body: body, credentials: "same-origin"});
  }

  function fields(extra) {
    const data = new FormData();
    data.append("path", path);
    data.append("text", area.value);
    for (const [k, v] of Object.entries(extra || {})) data.append(k, v);
    return data;
  }

  function lines() {
    const count = area.value.split("\n").length;
    if (gutter.children.length !== count) {
      gutter.textContent = "";
      for (let n = 1; n <= count; n++) {
        const span = document.createElement("span");
        span.dataset.line = n;
        span.textContent = n;
        gutter.appendChild(span);
      }
    }
  }

  function mark() {
    for (const span of gutter.querySelectorAll(".error, .warning")) span.className = "";
    for (const item of findings.querySelectorAll("li[data-line]")) {
      const span = gutter.querySelector(`span[data-line="${item.dataset.line}"]`);
      if (span && span.className !== "error") span.className = item.className;
    }
  }

  function goTo(line) {
    const all = area.value.split("\n");
    const start = all.slice(0, line - 1).join("\n").length + (line > 1 ? 1 : 0);
    area.focus();
    area.setSelectionRange(start, start + (all[line - 1] || "").length);
    const height = area.scrollHeight / all.length;
    area.scrollTop = Math.max(0, (line - 5) * height);
  }

  async function save() {
    if (area.value === saved || stopped || form.dataset.readonly) return true;
    const text = area.value;
    remember();
    const answer = await post(form.dataset.save, JSON.stringify({path: path, text: text, revision: revision}), true);
    if (!answered(answer)) return false;
    const body = await answer.json().catch(() => ({}));
    if (answer.status === 409) {
      stopped = true;
      conflict.hidden = false;
      conflict.textContent = "";
      const p = document.createElement("p");
      p.textContent = `Niet bewaard: ${body.fout}${body.door ? ` (${body.door}, om ${body.om})` : ""}. ` +
        "Je tekst staat nog hier: kopieer wat je wil houden, en laad dan de bewaarde versie.";
      const reload = document.createElement("button");
      reload.type = "button";
      reload.className = "secondary";
      reload.textContent = "Laad de bewaarde versie";
      reload.addEventListener("click", () => { stopped = false; saved = area.value; window.location.reload(); });
      conflict.append(p, reload);
      status.textContent = "Niet bewaard: iemand anders wijzigde dit concept.";
      return false;
    }
    if (!answer.ok) {
      status.textContent = `Niet bewaard: ${body.fout || "de server antwoordde " + answer.status}. We proberen het zo opnieuw.`;
      return false;
    }
    revision = body.revisie;
    saved = text;
    if (area.value === text) sessionStorage.removeItem(UNSAVED);
    const ready = document.getElementById("klaar");
    if (ready && ready.hidden) {  // the first save made the draft: it can be submitted now
      for (const next of ready.querySelectorAll("form[data-action]")) {
        next.action = next.dataset.action.replace("00000000-0000-0000-0000-000000000000", body.concept);
      }
      ready.hidden = false;
    }
    const field = document.getElementById("revisie");
    if (field) field.value = revision;
    status.textContent = `Concept bewaard om ${body.bewaard}.`;
    return true;
  }

  async function check() {
    const answer = await post(form.dataset.check, fields());
    if (!answered(answer) || !answer.ok) return;
    findings.innerHTML = await answer.text();  // the server's own escaped HTML
    mark();
    const own = findings.querySelector("ul.findings");  // said aloud: the count, not the list
    const errors = own ? own.querySelectorAll("li.error").length : 0;
    const said = errors ? `Controle: ${errors} fout${errors > 1 ? "en" : ""}.` : "Controle: geen fouten.";
    const live = document.getElementById("controle-status");
    if (live.textContent !== said) live.textContent = said;
    const options = findings.querySelector("#varianten");
    const select = document.getElementById("v-variant");
    if (options && select && options.innerHTML.trim()) {
      const chosen = select.value;
      select.innerHTML = options.innerHTML;
      if ([...select.options].some((o) => o.value === chosen)) select.value = chosen;
    }
  }

  async function preview() {
    if (!pages) return;
    const started = performance.now();
    previewStatus.textContent = "Voorbeeld wordt gemaakt…";
    const choice = {};
    for (const name of ["variant", "moment", "edition"]) choice[name] = form.elements[name].value;
    const answer = await post(form.dataset.preview, fields(choice));
    if (!answered(answer)) return;
    const body = await answer.json().catch(() => ({}));
    if (!answer.ok || !body.sleutel) {
      const why = (body.fouten || []).join("; ") || "de tekst heeft fouten";
      previewStatus.textContent = pages.children.length
        ? `Voorbeeld niet bijgewerkt (${why}): hieronder staat de laatste tekst zonder fouten.`
        : `Nog geen voorbeeld: ${why}.`;
      return;
    }
    const list = document.createElement("ol");
    list.className = "pages";
    for (let n = 1; n <= body.paginas; n++) {
      const item = document.createElement("li");
      const image = document.createElement("img");
      image.src = form.dataset.page.replace("/0/1.png", `/${body.sleutel}/${n}.png`);
      image.alt = `Voorbeeld, pagina ${n} van ${body.paginas}`;
      image.width = 450; image.height = 637;
      if (n > 2) image.loading = "lazy";
      item.appendChild(image);
      list.appendChild(item);
    }
    pages.replaceChildren(list);
    const seconds = ((performance.now() - started) / 1000).toFixed(1).replace(".", ",");
    previewStatus.textContent = `Voorbeeld van ${body.paginas} pagina's, bijgewerkt in ${seconds} s.` +
      (body.waarschuwingen.length ? ` Let op: ${body.waarschuwingen.join("; ")}` : "");
    form.dataset.previewed = body.sleutel;
  }

  async function run() {
    if (busy) { again = true; return; }
    busy = true;
    try {
      await save();
      await check();
      await preview();
    } catch (error) {
      status.textContent = "Geen verbinding met de server: je tekst staat nog hier, we proberen het zo opnieuw.";
    } finally {
      busy = false;
      if (again) { again = false; run(); }
    }
  }

  area.addEventListener("input", () => {
    lines();
    remember();
    status.textContent = "Niet bewaard…";
    clearTimeout(timer);
    timer = setTimeout(run, 600);
  });
  area.addEventListener("scroll", () => { gutter.scrollTop = area.scrollTop; });
  form.addEventListener("change", (event) => { if (event.target !== area) preview(); });
  form.addEventListener("submit", (event) => event.preventDefault());
  const ready = document.getElementById("klaar");
  if (ready) {  // submitting: what was typed last is saved first, so exactly that is offered
    ready.addEventListener("submit", async (event) => {
      if (area.value === saved) return;
      event.preventDefault();
      clearTimeout(timer);
      if (await save()) event.target.submit();
    });
  }
  findings.addEventListener("click", (event) => {
    const button = event.target.closest("button.goto");
    if (button) goTo(parseInt(button.dataset.line, 10));
  });
  window.addEventListener("beforeunload", (event) => {
    if (area.value !== saved && !stopped) { save(); event.preventDefault(); }
  });
  setInterval(() => { if (area.value !== saved && !busy) run(); }, 5000);  // retries a failed save
  const kept = JSON.parse(sessionStorage.getItem(UNSAVED) || "null");
  if (kept && kept.account === account && kept.revision === revision && kept.text !== area.value
      && !form.dataset.readonly) {
    area.value = kept.text;
    status.textContent = "Wat je typte voor je afgemeld werd, staat er weer; het wordt nu bewaard.";
  } else if (kept) {
    sessionStorage.removeItem(UNSAVED);  // another account's, or typed on an older revision
  }
  lines();
  run();
})();
