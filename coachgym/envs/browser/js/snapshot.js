// Waits (bounded) for the document to settle, stamps a stable id on every element and renders
// an accessibility-tree-like outline with BrowserGym's states and flags. Runs once per frame; the
// Python side splices child frames under their <iframe> line, using the iframe's own id + "-" as
// the child's id prefix so ids are unique across frames. Open shadow roots are walked in place.
// Ids live in an attribute, so they survive between steps; a WeakMap catches elements cloned
// with the attribute (which must get a fresh id). Elements carrying `hideAttr` (set by the env on
// its own scaffolding, e.g. MiniWoB's reward display) are left out.
async ({ prefix, attr, hideAttr, quietMs, maxWaitMs, maxText }) => {
  const cg = window.__cg || { lastMutation: 0, pending: 0 };
  const start = performance.now();
  const frame = () => new Promise((resolve) => requestAnimationFrame(() => resolve()));
  const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
  // Settled: loaded with its stylesheets and fonts (so boxes and marks are final), no fetch/XHR in
  // flight, and no DOM mutation for quietMs.
  const loaded = () => document.readyState === "complete" && cg.pending === 0 &&
    (!document.fonts || document.fonts.status === "loaded");
  const quietFor = () => quietMs - (performance.now() - cg.lastMutation);
  while (performance.now() - start < maxWaitMs && !(loaded() && quietFor() <= 0)) {
    // Only the quiet time left: sleep exactly that (a frame or 8 ms tick would overshoot by ~4 ms a step).
    if (loaded()) await sleep(Math.min(quietFor(), maxWaitMs - (performance.now() - start)));
    else await (document.visibilityState === "visible" ? Promise.race([frame(), sleep(8)]) : sleep(8));
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
    LEGEND: "legend", PROGRESS: "progressbar", HR: "separator", DETAILS: "group",
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
  // Inside these the content is not one name: nested items, controls and media keep their own lines.
  const STRUCTURE = "a,button,input,select,textarea,li,ul,ol,table,tr,img,svg,iframe,[onclick],[tabindex],[role]";
  const NO_VALUE = ["checkbox", "radio", "submit", "button", "reset", "image", "file"];
  const clip = (s) => {
    s = (s || "").replace(/\s+/g, " ").trim();
    return s.length > maxText ? s.slice(0, maxText) + "…(+" + (s.length - maxText) + " chars)" : s;
  };
  const quote = (s) => "'" + s.replace(/'/g, "\\'") + "'";
  const roleOf = (el) => {
    const explicit = el.getAttribute("role");
    if (explicit) return explicit.split(" ")[0];
    if (el.tagName === "INPUT") return el.type === "hidden" ? null : (INPUT_ROLE[el.type] || "textbox");
    if (el.tagName === "A" && !el.hasAttribute("href")) return "generic";
    if (el.tagName === "SELECT" && (el.multiple || el.size > 1)) return "listbox";
    if (el.isContentEditable && (!el.parentElement || !el.parentElement.isContentEditable)) return "textbox";
    return TAG_ROLE[el.tagName] || (el instanceof SVGElement ? "graphics-symbol" : "generic");
  };
  const labelOf = (el) => {
    const by = el.getAttribute("aria-labelledby");
    if (by) {
      const root = el.getRootNode();
      const text = by.split(/\s+/).map((i) => root.getElementById ? root.getElementById(i) : null)
        .filter(Boolean).map((n) => n.textContent).join(" ");
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
  const urlName = (value) => {
    const match = /url\(["']?([^"')]+)["']?\)/.exec(value || "");
    return match ? match[1].split(/[\/?#]/).filter(Boolean).slice(-1)[0] || "" : "";
  };
  // What an unnamed icon or control shows: its class (often the only hint, e.g. 'trash') and image file.
  const iconHint = (el, style) => {
    const hints = [];
    const cls = typeof el.className === "string" ? el.className.trim().replace(/\s+/g, " ") : "";
    if (cls) hints.push("class=" + quote(cls.length > 80 ? cls.slice(0, 80) + "…" : cls));
    const image = urlName(style.content) || urlName(style.backgroundImage) || urlName(el.getAttribute("src"));
    if (image) hints.push("icon=" + quote(clip(image)));
    return hints;
  };
  const vw = window.innerWidth, vh = window.innerHeight;
  const overlaps = (r, box) => r.right > box[0] && r.bottom > box[1] && r.left < box[2] && r.top < box[3];
  // Covered: the middle of the element's first visible line box (inline text wraps) hits something else.
  const covered = (el, r, area) => {
    const first = el.getClientRects()[0] || r;
    const box = [Math.max(first.left, area[0]), Math.max(first.top, area[1]), Math.min(first.right, area[2]), Math.min(first.bottom, area[3])];
    if (box[2] <= box[0] || box[3] <= box[1]) return false;
    const root = el.getRootNode();
    const hit = (root.elementFromPoint ? root : document).elementFromPoint((box[0] + box[2]) / 2, (box[1] + box[3]) / 2);
    return hit !== null && hit !== el && !el.contains(hit) && !(hit.shadowRoot && hit.shadowRoot.contains(el));
  };

  const states = (el, role, style, r, ctx) => {
    const props = [];
    const tag = el.tagName;
    if (["INPUT", "TEXTAREA", "SELECT"].includes(tag) && !NO_VALUE.includes(el.type)) {
      if (tag === "SELECT" && el.multiple) {
        props.push("value=[" + Array.from(el.selectedOptions).map((o) => quote(clip(o.text))).join(", ") + "]");
      } else if (tag === "SELECT") {
        props.push("value=" + quote(clip(el.selectedIndex >= 0 ? el.options[el.selectedIndex].text : "")));
      } else {
        props.push("value=" + quote(clip(el.type === "password" ? "•".repeat(el.value.length) : el.value)));
      }
    }
    if (tag === "INPUT" && el.type === "file") {
      props.push("file", "files=[" + Array.from(el.files || []).map((f) => quote(clip(f.name))).join(", ") + "]");
    }
    if (tag === "SELECT" && role === "combobox") {
      props.push("options=[" + Array.from(el.options).map((o) => quote(clip(o.text))).join(", ") + "]");
    }
    if (tag === "SELECT" && el.multiple) props.push("multiselectable");
    if (tag === "INPUT" && ["range", "number", "date", "time", "month", "week", "datetime-local"].includes(el.type)) {
      if (el.min !== "") props.push("min=" + quote(el.min));
      if (el.max !== "") props.push("max=" + quote(el.max));
    }
    for (const [aria, key] of [["valuenow", "value"], ["valuemin", "min"], ["valuemax", "max"]]) {
      const v = el.getAttribute("aria-" + aria);
      if (v !== null && !props.some((p) => p.startsWith(key + "="))) props.push(key + "=" + quote(clip(v)));
    }
    if (el.placeholder && !labelOf(el)) props.push("placeholder=" + quote(clip(el.placeholder)));
    const ariaChecked = el.getAttribute("aria-checked");
    if (el.indeterminate || ariaChecked === "mixed") props.push("checked=mixed");
    else if (el.checked || ariaChecked === "true") props.push("checked");
    if ((tag === "OPTION" && el.selected) || el.getAttribute("aria-selected") === "true") props.push("selected");
    const pressed = el.getAttribute("aria-pressed");
    if (pressed === "true" || pressed === "mixed") props.push(pressed === "true" ? "pressed" : "pressed=mixed");
    const expanded = el.getAttribute("aria-expanded") || (tag === "SUMMARY" && el.parentElement && el.parentElement.tagName === "DETAILS" ? String(el.parentElement.open) : null);
    if (expanded) props.push("expanded=" + expanded);
    if (el.disabled || el.getAttribute("aria-disabled") === "true" || ctx.disabled) props.push("disabled");
    if (el.readOnly && ["INPUT", "TEXTAREA"].includes(tag)) props.push("readonly");
    if (el.required || el.getAttribute("aria-required") === "true") props.push("required");
    const active = (el.getRootNode().activeElement || null);
    if (active === el && el !== document.body) props.push("focused");
    const href = role === "link" ? el.getAttribute("href") : null;
    if (href && !href.startsWith("javascript:") && href !== "#") props.push("url=" + quote(clip(href)));
    // Flags for what a screenshot would not show: BrowserGym's visible / in-viewport / covered, as exceptions.
    const invisible = style.visibility === "hidden" || style.visibility === "collapse" || ctx.opacity * Number(style.opacity) < 0.05;
    if (invisible) props.push("invisible");
    // clipped: scrolled out of (or cut off by) a container; offscreen: outside the viewport.
    if (ctx.clip && !overlaps(r, ctx.clip)) props.push("clipped");
    else if (!overlaps(r, [0, 0, vw, vh])) props.push("offscreen");
    else if (!invisible && tag !== "OPTION" && covered(el, r, ctx.clip ? [Math.max(0, ctx.clip[0]), Math.max(0, ctx.clip[1]),
      Math.min(vw, ctx.clip[2]), Math.min(vh, ctx.clip[3])] : [0, 0, vw, vh])) props.push("covered");
    return props;
  };

  // Hover reactions: a :hover style rule anywhere on the page, or a hover listener (init.js) or inline
  // onmouseover-style handler on the element or an ancestor. Style sheets of another origin (MiniWoB's file://
  // core.css) cannot be read and are not counted. Where nothing reacts, a hover cannot change the page.
  const hoverRule = (rules) => Array.from(rules).some((rule) =>
    (rule.selectorText || "").includes(":hover") || (rule.cssRules && hoverRule(rule.cssRules)));
  const hoverSheets = (sheets) => Array.from(sheets || []).some((sheet) => {
    try { return hoverRule(sheet.cssRules); } catch { return false; }
  });
  const HOVER_HANDLERS = ["onmouseover", "onmouseenter", "onmousemove", "onpointerover", "onpointerenter",
    "onpointermove"];
  const hoverTargets = cg.hoverTargets || new WeakSet();
  const listensForHover = (node) => hoverTargets.has(node) || HOVER_HANDLERS.some((handler) => node[handler]);
  let hoverStyles = hoverSheets(document.styleSheets) || hoverSheets(document.adoptedStyleSheets);
  const hoverIds = [];

  const lines = [];
  const boxes = {};
  const walk = (el, depth, ctx) => {
    if (SKIP.has(el.tagName) || el.hasAttribute(hideAttr)) return;
    const style = getComputedStyle(el);
    if (style.display === "none") return;
    const role = roleOf(el);
    if (role === null) return;
    const id = stamp(el);
    const visible = style.visibility !== "hidden" && style.visibility !== "collapse";
    const rect = el.getBoundingClientRect();
    const pointer = style.cursor === "pointer";
    let nested = null;
    const structured = () => (nested ??= el.shadowRoot !== null || el.querySelector(STRUCTURE) !== null);
    let cached = null;  // innerText walks the subtree: read it only when needed
    const text = () => (cached ??= (el.innerText !== undefined ? el.innerText : el.textContent) || "");
    // Controls, landmarks, things with a click affordance (the outermost pointer, or an icon inside
    // one: a pointer element without text), and anything with text of its own.
    const notable =
      role !== "generic" || el.hasAttribute("onclick") || el.hasAttribute("tabindex") ||
      (pointer && (!ctx.pointer || !text().trim())) || el.isContentEditable ||
      (!el.children.length && Boolean(urlName(style.content) || urlName(style.backgroundImage)) && !text().trim());
    // Mixed content ("Enter <b>x</b> now") reads as one sentence; the inline children still get lines.
    const own = ownText(el);
    const direct = el.tagName === "TEXTAREA" ? "" : clip(own && el.children.length && !structured() ? text() : own);
    let name = clip(labelOf(el));
    if (!name && NAME_FROM_CONTENT.has(role)) name = structured() ? clip(own) : clip(text());
    if (!name && el.getAttribute("title")) name = clip(el.getAttribute("title"));
    const shown = rect.width > 0 && rect.height > 0 || el.tagName === "OPTION";
    const emit = shown && (notable || direct || name);
    const inner = {
      pointer: ctx.pointer || pointer,
      opacity: ctx.opacity * Number(style.opacity),
      disabled: ctx.disabled || (el.tagName === "FIELDSET" && el.disabled),
      clip: ctx.clip,
      hover: ctx.hover || listensForHover(el) || (el.shadowRoot !== null && listensForHover(el.shadowRoot)),
    };
    if (el.shadowRoot && !hoverStyles) {
      hoverStyles = hoverSheets(el.shadowRoot.styleSheets) || hoverSheets(el.shadowRoot.adoptedStyleSheets);
    }
    if (style.overflowX !== "visible" || style.overflowY !== "visible") {
      const own = [rect.left, rect.top, rect.right, rect.bottom];
      inner.clip = ctx.clip ? [Math.max(own[0], ctx.clip[0]), Math.max(own[1], ctx.clip[1]),
        Math.min(own[2], ctx.clip[2]), Math.min(own[3], ctx.clip[3])] : own;
    }
    let childDepth = depth;
    if (emit) {
      const label = name || direct;
      let line = "[" + id + "] " + role + (label ? " " + quote(label) : "");
      const props = states(el, role, style, rect, ctx);
      if (!label && (role !== "generic" || !el.children.length)) {
        props.unshift(...iconHint(el, style));
      }
      if (props.length) line += " " + props.join(" ");
      lines.push([depth, line, el.tagName === "IFRAME" ? id : null]);
      boxes[id] = [rect.left, rect.top, rect.width, rect.height];
      if (inner.hover) hoverIds.push(id);
      childDepth = depth + 1;
    } else if (visible && direct) {
      lines.push([depth, "StaticText " + quote(direct), null]);
    }
    // A control whose name already holds its text has nothing more to show.
    if (el.tagName === "IFRAME" || (el.tagName === "SELECT" && role === "combobox")) return;
    if (emit && name && NAME_FROM_CONTENT.has(role) && !structured()) return;
    if (el.shadowRoot) for (const child of el.shadowRoot.children) walk(child, childDepth, inner);
    for (const child of el.children) walk(child, childDepth, inner);
  };
  walk(document.body || document.documentElement, 0, { pointer: false, opacity: 1, disabled: false, clip: null,
    hover: listensForHover(document) || listensForHover(document.documentElement) });
  return {
    lines, boxes, hoverStyles, hoverIds, title: document.title, url: location.href,
    scroll: [window.scrollX, window.scrollY, document.documentElement.scrollWidth, document.documentElement.scrollHeight],
  };
};
