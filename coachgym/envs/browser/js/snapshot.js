// Waits (bounded) for the document to settle, stamps a stable id on every element and renders
// an accessibility-tree-like outline. Runs once per frame; the Python side splices child frames
// under their <iframe> line, using the iframe's own id + "." as the child's id prefix so ids are
// unique across frames. Ids live in an attribute, so they survive between steps; a WeakMap
// catches elements cloned with the attribute (which must get a fresh id).
async ({ prefix, attr, quietMs, maxWaitMs, maxName }) => {
  const cg = window.__cg || { lastMutation: 0, pending: 0 };
  const start = performance.now();
  const frame = () => new Promise((resolve) => requestAnimationFrame(() => resolve()));
  const tick = () => new Promise((resolve) => setTimeout(resolve, 8));
  while (performance.now() - start < maxWaitMs) {
    const now = performance.now();
    if (document.readyState !== "loading" && cg.pending === 0 && now - cg.lastMutation >= quietMs) break;
    await (document.visibilityState === "visible" ? Promise.race([frame(), tick()]) : tick());
  }

  if (window.__cgNext === undefined) { window.__cgNext = 1; window.__cgIds = new WeakMap(); }
  const stamp = (el) => {
    let id = el.getAttribute(attr);
    if (!id || window.__cgIds.get(el) !== id) {
      id = prefix + window.__cgNext++;
      el.setAttribute(attr, id);
      window.__cgIds.set(el, id);
    }
    return id;
  };

  const SKIP = new Set(["SCRIPT", "STYLE", "NOSCRIPT", "TEMPLATE", "HEAD", "META", "LINK", "TITLE", "BR"]);
  const TAG_ROLE = {
    A: "link", BUTTON: "button", SELECT: "combobox", TEXTAREA: "textbox", IMG: "img", LI: "listitem",
    UL: "list", OL: "list", TABLE: "table", TR: "row", TD: "cell", TH: "columnheader", NAV: "navigation",
    FORM: "form", LABEL: "LabelText", OPTION: "option", IFRAME: "iframe", DIALOG: "dialog", MAIN: "main",
    H1: "heading", H2: "heading", H3: "heading", H4: "heading", H5: "heading", H6: "heading",
    SUMMARY: "button", SVG: "graphics", svg: "graphics", CANVAS: "canvas", P: "paragraph",
    HEADER: "banner", FOOTER: "contentinfo", ASIDE: "complementary", SECTION: "region", FIELDSET: "group",
    LEGEND: "legend", PROGRESS: "progressbar", HR: "separator",
  };
  const INPUT_ROLE = {
    checkbox: "checkbox", radio: "radio", button: "button", submit: "button", reset: "button", image: "button",
    range: "slider", number: "spinbutton", search: "searchbox", email: "textbox", text: "textbox",
    password: "textbox", tel: "textbox", url: "textbox", date: "textbox", time: "textbox",
    "datetime-local": "textbox", month: "textbox", week: "textbox", color: "button", file: "button",
  };
  const NAME_FROM_CONTENT = new Set([
    "link", "button", "heading", "option", "cell", "columnheader", "LabelText", "listitem", "tab",
    "menuitem", "treeitem", "legend", "checkbox", "radio", "switch", "row",
  ]);
  const clip = (s) => {
    s = (s || "").replace(/\s+/g, " ").trim();
    return s.length > maxName ? s.slice(0, maxName - 1) + "…" : s;
  };
  const quote = (s) => "'" + s.replace(/'/g, "\\'") + "'";
  const roleOf = (el) => {
    const explicit = el.getAttribute("role");
    if (explicit) return explicit.split(" ")[0];
    if (el.tagName === "INPUT") return el.type === "hidden" ? null : (INPUT_ROLE[el.type] || "textbox");
    if (el.tagName === "A" && !el.hasAttribute("href")) return "generic";
    if (el.isContentEditable && (!el.parentElement || !el.parentElement.isContentEditable)) return "textbox";
    return TAG_ROLE[el.tagName] || (el instanceof SVGElement ? "graphics-symbol" : "generic");
  };
  const labelOf = (el) => {
    const by = el.getAttribute("aria-labelledby");
    if (by) {
      const text = by.split(/\s+/).map((i) => document.getElementById(i)).filter(Boolean).map((n) => n.textContent).join(" ");
      if (text.trim()) return text;
    }
    const aria = el.getAttribute("aria-label");
    if (aria) return aria;
    if (el.labels && el.labels.length) return Array.from(el.labels).map((l) => l.textContent).join(" ");
    if (el.tagName === "IMG" || (el.tagName === "INPUT" && el.type === "image")) return el.getAttribute("alt") || "";
    if (el.tagName === "INPUT" && ["submit", "button", "reset"].includes(el.type)) return el.value || el.type;
    return "";
  };
  const ownText = (el) => {
    let text = "";
    for (const child of el.childNodes) if (child.nodeType === Node.TEXT_NODE) text += " " + child.data;
    return text.trim();
  };

  const lines = [];
  const boxes = {};
  const CONTAINS_CONTROL = "a,button,input,select,textarea,[onclick],[tabindex],[role]";
  const walk = (el, depth, parentPointer) => {
    if (SKIP.has(el.tagName)) return;
    const style = getComputedStyle(el);
    if (style.display === "none") return;
    const role = roleOf(el);
    if (role === null || el.getAttribute("aria-hidden") === "true") return;
    const id = stamp(el);
    const visible = style.visibility !== "hidden" && style.visibility !== "collapse";
    const rect = el.getBoundingClientRect();
    const pointer = style.cursor === "pointer";
    const notable =
      role !== "generic" || el.hasAttribute("onclick") || el.hasAttribute("tabindex") ||
      (pointer && !parentPointer) || el.isContentEditable;
    // Mixed content ("Enter <b>x</b> now") reads as one sentence; the inline children still get lines.
    const own = ownText(el);
    const direct = clip(own && el.children.length ? el.innerText : own);
    let name = clip(labelOf(el));
    if (!name && NAME_FROM_CONTENT.has(role)) name = clip(el.innerText !== undefined ? el.innerText : el.textContent);
    if (!name && el.getAttribute("title")) name = clip(el.getAttribute("title"));
    const shown = visible && (rect.width > 0 && rect.height > 0 || el.tagName === "OPTION");
    const emit = shown && (notable || direct || name);
    let childDepth = depth;
    if (emit) {
      const label = name || direct;
      let line = "[" + id + "] " + role + (label ? " " + quote(label) : "");
      const props = [];
      if (["INPUT", "TEXTAREA", "SELECT"].includes(el.tagName) && !["checkbox", "radio", "submit", "button", "reset"].includes(el.type)) {
        props.push("value=" + quote(clip(el.type === "password" ? "•".repeat(el.value.length) : el.value)));
      }
      if (el.tagName === "SELECT") props.push("options=[" + Array.from(el.options).map((o) => quote(clip(o.text))).join(", ") + "]");
      if (el.placeholder && !name) props.push("placeholder=" + quote(clip(el.placeholder)));
      if (el.checked || el.getAttribute("aria-checked") === "true") props.push("checked");
      if (el.tagName === "OPTION" && el.selected) props.push("selected");
      if (el.disabled) props.push("disabled");
      if (el.required) props.push("required");
      if (el.getAttribute("aria-expanded")) props.push("expanded=" + el.getAttribute("aria-expanded"));
      if (document.activeElement === el && el !== document.body) props.push("focused");
      const href = role === "link" ? el.getAttribute("href") : null;
      if (href && !href.startsWith("javascript:") && href !== "#") props.push("url=" + quote(clip(href)));
      if (props.length) line += " " + props.join(" ");
      lines.push([depth, line, el.tagName === "IFRAME" ? id : null]);
      boxes[id] = [rect.left, rect.top, rect.width, rect.height];
      childDepth = depth + 1;
    } else if (visible && direct) {
      lines.push([depth, "StaticText " + quote(direct), null]);
    }
    // A control whose name already holds its text has nothing more to show, unless it nests controls.
    if (el.tagName === "SELECT" || el.tagName === "IFRAME") return;
    if (emit && name && NAME_FROM_CONTENT.has(role) && !el.querySelector(CONTAINS_CONTROL)) return;
    for (const child of el.children) walk(child, childDepth, pointer);
  };
  walk(document.body || document.documentElement, 0, false);
  return {
    lines, boxes, title: document.title, url: location.href,
    scroll: [window.scrollX, window.scrollY, document.documentElement.scrollWidth, document.documentElement.scrollHeight],
  };
};
