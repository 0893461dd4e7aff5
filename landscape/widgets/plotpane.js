// Front end of landscape.widgets.plotpane.PlotPane (an anywidget module).
//
// plotly.js itself is not part of this module (plotly's FigureWidget puts its 5 MB bundle into
// every widget's state, and so into every saved notebook). It is taken, once per page, from
//   1. a page-wide `Plotly` (classic pages that already loaded plotly.js),
//   2. the jupyterlab-plotly extension that `pip install plotly` ships to JupyterLab, Notebook 7
//      and Voila (served by the Jupyter server, cached by the browser, never saved in a notebook),
//   3. the kernel, which sends plotly.min.js once as a binary message.
// Edits from Python arrive as small custom messages (restyle / relayout) and are applied with
// Plotly.restyle / Plotly.relayout, so a threshold step sends a colour scale, not the figure.

const MIME = "application/vnd.plotly.v1+json";
const CACHE = "__landscapePlotly";

function fromPage() {
  const P = globalThis.Plotly;
  return P && typeof P.react === "function" ? P : null;
}

async function fromJupyterLab() {
  const container = globalThis._JUPYTERLAB && globalThis._JUPYTERLAB["jupyterlab-plotly"];
  if (!container) throw new Error("this page has no jupyterlab-plotly extension");
  const mod = (await container.get("./mimeExtension"))();
  const Rendered = mod && mod.RenderedPlotly;
  if (!Rendered || !mod.rendererFactory) throw new Error("jupyterlab-plotly exports no RenderedPlotly");
  if (!Rendered.Plotly) {
    // the extension loads plotly.js on its first render: render an empty figure off-screen
    const r = mod.rendererFactory.createRenderer({ mimeType: mod.MIME_TYPE || MIME });
    await r.renderModel({ data: { [MIME]: { data: [], layout: {} } }, metadata: {}, setData() {} });
    await Rendered.loadingPlotly;
    r.dispose();
  }
  const P = Rendered.Plotly;
  if (!P || typeof P.react !== "function") throw new Error("jupyterlab-plotly did not provide plotly.js");
  return P;
}

function fromKernel(model, timeoutMs) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      model.off("msg:custom", onMessage);
      reject(new Error("no kernel answered with plotly.js: run the cell again"));
    }, timeoutMs);
    function onMessage(msg, buffers) {
      if (!msg || msg.type !== "plotly.js") return;
      clearTimeout(timer);
      model.off("msg:custom", onMessage);
      try {
        const source = new TextDecoder().decode(buffers[0]);
        const module = { exports: {} };
        // plotly.min.js is UMD: given `module`, it exports itself there instead of on `window`
        new Function("module", "exports", "define", source)(module, module.exports, undefined);
        resolve(module.exports);
      } catch (err) {
        reject(err);
      }
    }
    model.on("msg:custom", onMessage);
    model.send({ type: "need plotly.js" });
  });
}

function loadPlotly(model) {
  const P = fromPage();
  if (P) return Promise.resolve(P);
  if (!globalThis[CACHE]) {
    const loading = fromJupyterLab().catch(() => fromKernel(model, 60000));
    globalThis[CACHE] = loading;
    loading.catch(() => {
      if (globalThis[CACHE] === loading) globalThis[CACHE] = null; // let the next pane try again
    });
  }
  return globalThis[CACHE];
}

function setPath(obj, path, value) {
  const keys = path.split(".");
  let o = obj;
  for (const k of keys.slice(0, -1)) {
    if (o[k] === null || typeof o[k] !== "object") o[k] = {};
    o = o[k];
  }
  o[keys[keys.length - 1]] = value;
}

function pointOf(p) {
  const num = (v) => (typeof v === "number" ? v : v === undefined || v === null ? null : Number(v));
  return {
    trace: p.curveNumber,
    point: p.pointNumber === undefined ? null : p.pointNumber,
    x: num(p.x), y: num(p.y), z: num(p.z),
  };
}

// Views whose model gets no messages (see checkContact), waiting for a replacement model
const ORPHANS = (globalThis.__landscapeOrphans = globalThis.__landscapeOrphans || new Map());

function initialize({ model }) {
  // keep the model's copy of the figure current, so saved widget state and views created later
  // show what the live views show
  model.on("msg:custom", (msg) => {
    if (!msg) return;
    if (msg.type === "restyle") {
      const traces = model.get("traces");
      for (const [k, v] of Object.entries(msg.props)) setPath(traces[msg.trace], k, v);
    } else if (msg.type === "relayout") {
      const layout = model.get("figure_layout");
      for (const [k, v] of Object.entries(msg.props)) setPath(layout, k, v);
    }
  });
  // a replacement model made by the kernel for a view whose own model went deaf
  const token = model.get("adopts");
  if (token) {
    const adopt = ORPHANS.get(token);
    ORPHANS.delete(token);
    if (adopt) adopt(model);
    else model.send({ type: "unneeded" });
  }
}

function render({ model, el }) {
  el.classList.add("landscape-plotpane");
  const gd = document.createElement("div");
  gd.className = "landscape-plotpane-plot";
  el.appendChild(gd);
  let current = model; // the model this view draws and listens to (a replacement after adopt)
  let Plotly = null;
  let alive = true;
  let drawn = 0;
  const copy = (x) => JSON.parse(JSON.stringify(x));
  // the picture is on screen two animation frames after plotly returns (WebGL scenes draw on a frame)
  const markDrawn = () => requestAnimationFrame(() => requestAnimationFrame(() => {
    drawn += 1;
    el.dataset.drawn = String(drawn);
  }));
  const draw = () => Plotly.react(gd, copy(current.get("traces")), copy(current.get("figure_layout")),
    Object.assign({ displaylogo: false, responsive: true }, copy(current.get("config"))))
    .then(markDrawn);

  // Edits that arrive while plotly is still drawing are merged, and only the newest values are
  // drawn: dragging a slider over a 3-D scene (software WebGL takes ~1 s a frame on a busy
  // machine) must not build a queue of stale pictures.
  let busy = false;
  const pending = new Map(); // "restyle:<trace>" or "relayout" -> merged props
  const apply = (key, props) => {
    if (key === "relayout") return Plotly.relayout(gd, props);
    const update = {};
    for (const [k, v] of Object.entries(props)) update[k] = [v];
    return Plotly.restyle(gd, update, [Number(key.split(":")[1])]);
  };
  const flush = async () => {
    busy = true;
    try {
      while (pending.size) {
        const [key, props] = pending.entries().next().value;
        pending.delete(key);
        await apply(key, props);
      }
    } finally {
      busy = false;
    }
    markDrawn();
  };
  const onMessage = (msg) => {
    if (!msg) return;
    if (msg.type === "pong" && msg.id === token) {
      contact = true;
      el.dataset.contact = "ok";
      return;
    }
    if (msg.type !== "restyle" && msg.type !== "relayout") return;
    const key = msg.type === "restyle" ? `restyle:${msg.trace}` : "relayout";
    pending.set(key, Object.assign(pending.get(key) || {}, msg.props));
    if (Plotly && !busy) flush();
  };
  const onFigure = () => { if (Plotly) draw(); };
  const bind = (m) => {
    m.on("msg:custom", onMessage);
    m.on("change:traces", onFigure);
    m.on("change:figure_layout", onFigure);
    m.on("change:config", onFigure);
  };
  const unbind = (m) => {
    m.off("msg:custom", onMessage);
    m.off("change:traces", onFigure);
    m.off("change:figure_layout", onFigure);
    m.off("change:config", onFigure);
  };
  bind(current);

  // Does the kernel reach this view? anywidget (0.11) drops every message to a model whose
  // start took over 2 s, which a page busy drawing a 3-D scene on a loaded machine can cause.
  // The view asks the kernel to answer; when the kernel is idle and no answer comes, the view
  // asks it for a replacement model (sending still works) and draws from that one.
  const token = String(Math.random()).slice(2);
  let contact = false;
  let quiet = 0;
  const kernelBusy = () => {
    const k = current.widget_manager && current.widget_manager.kernel;
    return !!(k && k.status && k.status !== "idle");
  };
  const watch = () => {
    if (!alive || contact) return;
    quiet = kernelBusy() ? 0 : quiet + 1;
    if (quiet === 3) { // ~6 s of an idle kernel without an answer
      ORPHANS.set(token, adopt);
      el.dataset.contact = "reviving";
      current.send({ type: "revive", token });
    } else if (quiet >= 15) {
      quiet = 0; // the replacement went deaf too: ask again
    }
    setTimeout(watch, 2000);
  };
  const checkContact = () => {
    current.send({ type: "ping", id: token });
    setTimeout(watch, 2000);
  };
  const adopt = (replacement) => {
    unbind(current);
    current = replacement;
    bind(current);
    el.dataset.adopted = String(Number(el.dataset.adopted || 0) + 1);
    contact = false;
    quiet = 0;
    pending.clear();
    if (Plotly) draw();
    current.send({ type: "ping", id: token });
  };

  let width = 0;
  const observer = new ResizeObserver(() => {
    // a resize redraws the whole plot (a 3-D scene is slow): only when the width really changed
    if (!Plotly || !gd._fullLayout || gd.offsetWidth === 0 || Math.abs(gd.offsetWidth - width) < 2) return;
    width = gd.offsetWidth;
    Plotly.Plots.resize(gd);
  });
  observer.observe(el);

  loadPlotly(model).then((P) => {
    if (!alive) return;
    Plotly = P;
    pending.clear(); // the model's figure already holds every edit so far
    busy = true;
    return draw().then(() => {
      busy = false;
      width = gd.offsetWidth;
      if (pending.size) flush();
      checkContact();
      gd.on("plotly_click", (event) => {
        current.send({ type: "click", points: (event.points || []).map(pointOf) });
      });
    });
  }).catch((err) => {
    const note = document.createElement("div");
    note.className = "landscape-plotpane-error";
    note.style.cssText = "color:#a00;padding:6px;border:1px solid #e99;font-size:90%";
    note.textContent = `This plot cannot be shown: ${err && err.message ? err.message : err}. ` +
      "Open the notebook in JupyterLab (with plotly installed) and run the cell.";
    el.appendChild(note);
  });

  return () => {
    alive = false;
    ORPHANS.delete(token);
    observer.disconnect();
    unbind(current);
    if (Plotly) Plotly.purge(gd);
  };
}

export default { initialize, render };
