// Injected into every document before its own scripts (context.add_init_script).
// Tracks the last DOM mutation and the number of in-flight fetch/XHR requests so that the env
// can wait until the page has settled instead of sleeping for a fixed time. It changes no page
// behaviour: fetch and XMLHttpRequest keep their semantics, only a counter is added around them.
(() => {
  if (window.__cg) return;
  const cg = (window.__cg = { lastMutation: performance.now(), pending: 0, attr: "data-cg-id" });
  const observe = () => {
    new MutationObserver((records) => {
      for (const record of records) {
        if (record.type !== "attributes" || record.attributeName !== cg.attr) {
          cg.lastMutation = performance.now();
          return;
        }
      }
    }).observe(document, { subtree: true, childList: true, attributes: true, characterData: true });
  };
  if (document) observe();
  // What listens for the pointer arriving (an element, a shadow root or the document; not the window, where
  // Playwright's own click check listens): a click on it or inside it hovers before pressing.
  const HOVER_EVENTS = new Set(["mouseover", "mouseenter", "mousemove", "pointerover", "pointerenter", "pointermove"]);
  cg.hoverTargets = new WeakSet();
  const listen = EventTarget.prototype.addEventListener;
  EventTarget.prototype.addEventListener = function (type, ...rest) {
    if (HOVER_EVENTS.has(type) && this !== window) cg.hoverTargets.add(this);
    return listen.call(this, type, ...rest);
  };
  const realFetch = window.fetch;
  if (realFetch) {
    window.fetch = function (...args) {
      cg.pending++;
      return realFetch.apply(this, args).finally(() => { cg.pending--; cg.lastMutation = performance.now(); });
    };
  }
  const send = XMLHttpRequest.prototype.send;
  XMLHttpRequest.prototype.send = function (...args) {
    cg.pending++;
    this.addEventListener("loadend", () => { cg.pending--; cg.lastMutation = performance.now(); }, { once: true });
    return send.apply(this, args);
  };
})();
