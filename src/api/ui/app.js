// tabby's topology page: signs in with an operator client's credentials (OAuth2 client
// credentials, the token kept in this script's memory only), then polls
// /ui/api/topology every second and draws nodes, peers and sessions as an SVG graph.
// Plain JavaScript, no build step, nothing loaded from elsewhere.
// Every edge carries data-state (up, connecting, down), data-node, data-peer, data-type,
// data-fsm and data-since (when this page first saw the current state, ms since the epoch).
"use strict";

const POLL_MS = 1000;
const SVG = "http://www.w3.org/2000/svg";
const TYPE_CLASS = {
  "node-to-node mesh": "mesh", "global": "global", "node specific": "node", "connection": "connection",
};
let creds = null;   // {id, secret}: to sign in again when the token expires
let token = null;
const seen = new Map();   // "node|peer" -> {state, since}

const $ = (id) => document.getElementById(id);

function edgeState(fsm) {
  if (fsm === "Established") return "up";
  if (fsm === "OpenSent" || fsm === "OpenConfirm") return "connecting";
  return "down";
}

function setStatus(text, error) {
  const s = $("status");
  s.textContent = text;
  s.className = error ? "error" : "";
}

async function signIn() {
  const res = await fetch("/oauth2/v1/token", {
    method: "POST",
    headers: {"Content-Type": "application/json"},
    body: JSON.stringify({grant_type: "client_credentials", client_id: creds.id,
                          client_secret: creds.secret}),
  });
  const body = await res.json().catch(() => ({}));
  if (res.status !== 200) {
    const e = new Error(body.error_description || body.error || ("sign-in failed: HTTP " + res.status));
    e.fatal = res.status === 400 || res.status === 401;   // wrong credentials: ask again
    throw e;
  }
  token = body.access_token;
}

async function poll() {
  try {
    if (token === null) await signIn();
    let res = await fetch("/ui/api/topology", {headers: {Authorization: "Bearer " + token}});
    if (res.status === 401) {   // expired: once more with a new token
      await signIn();
      res = await fetch("/ui/api/topology", {headers: {Authorization: "Bearer " + token}});
    }
    if (res.status === 403) {
      stop("this API client is not an operator (tabbyctl api-client create --operator)");
      return;
    }
    if (res.status !== 200) throw new Error("topology: HTTP " + res.status);
    render(await res.json());
    const now = new Date();
    setStatus("updated " + now.toLocaleTimeString());
    $("status").dataset.updated = String(now.getTime());
  } catch (e) {
    if (e.fatal) {
      stop(e.message);
      return;
    }
    setStatus(e.message, true);   // the API or datastore is away: keep trying
  }
  setTimeout(poll, POLL_MS);
}

function stop(why) {
  token = null;
  creds = null;
  $("view").hidden = true;
  $("login").hidden = false;
  $("login_error").textContent = why;
  setStatus("not signed in", true);
}

function el(name, attrs, parent) {
  const e = document.createElementNS(SVG, name);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  if (parent) parent.appendChild(e);
  return e;
}

function text(parent, x, y, cls, s) {
  const t = el("text", {x, y, class: cls}, parent);
  t.textContent = s;
  return t;
}

// Nodes on an inner circle, peers that are not nodes on an outer one, near their node.
function layout(topo) {
  const cx = 500, cy = 350, pos = new Map();
  const nodes = topo.nodes.slice().sort((a, b) => a.name.localeCompare(b.name));
  const r = nodes.length > 1 ? 170 : 0;
  nodes.forEach((n, i) => {
    const a = -Math.PI / 2 + (2 * Math.PI * i) / Math.max(nodes.length, 1);
    pos.set("node:" + n.name, {x: cx + r * Math.cos(a), y: cy + r * Math.sin(a), a});
  });
  const peers = new Map();   // external peer address -> the nodes it has sessions with
  for (const s of topo.sessions)
    if (!s.peer_node) {
      if (!peers.has(s.remote)) peers.set(s.remote, []);
      peers.get(s.remote).push(s);
    }
  const list = [...peers.keys()].sort();
  list.forEach((addr, i) => {
    const a = -Math.PI / 2 + Math.PI / Math.max(list.length, 1) + (2 * Math.PI * i) / Math.max(list.length, 1);
    pos.set("peer:" + addr, {x: cx + 310 * Math.cos(a), y: cy + 300 * Math.sin(a), a});
  });
  return {nodes, peers: list, pos};
}

function render(topo) {
  const svg = $("graph");
  const {nodes, peers, pos} = layout(topo);
  const now = Date.now();
  svg.replaceChildren();
  const edges = el("g", {class: "edges"}, svg);
  const live = new Set();
  for (const s of topo.sessions) {
    const from = pos.get("node:" + s.node);
    const to = pos.get(s.peer_node ? "node:" + s.peer_node : "peer:" + s.remote);
    if (!from || !to) continue;
    const state = edgeState(s.state), key = s.node + "|" + s.remote;
    let mem = seen.get(key);
    if (!mem || mem.state !== state) seen.set(key, mem = {state, since: now});
    live.add(key);
    // Mesh sessions come in pairs (each node's side, per address family): bend each
    // to its own side, IPv6 further out than IPv4.
    const v6 = (s.remote || "").includes(":");
    const bend = s.peer_node ? (s.node < s.peer_node ? 1 : -1) * (v6 ? 56 : 24) : (v6 ? 20 : 0);
    const mx = (from.x + to.x) / 2, my = (from.y + to.y) / 2;
    const dx = to.x - from.x, dy = to.y - from.y, len = Math.hypot(dx, dy) || 1;
    const qx = mx - (dy / len) * bend, qy = my + (dx / len) * bend;
    const type = TYPE_CLASS[s.type] || "node";
    const path = el("path", {
      d: `M${from.x},${from.y} Q${qx},${qy} ${to.x},${to.y}`,
      class: "edge " + type,
      "data-state": state, "data-fsm": s.state || "", "data-node": s.node,
      "data-peer": s.remote, "data-type": type, "data-since": String(mem.since),
    }, edges);
    el("title", {}, path).textContent =
      `${s.node} → ${s.remote} (AS ${s.remote_as}, ${s.type}): ${s.info || s.state}`;
  }
  for (const k of [...seen.keys()]) if (!live.has(k)) seen.delete(k);
  for (const addr of peers) {
    const p = pos.get("peer:" + addr);
    const any = topo.sessions.find((s) => s.remote === addr);
    const g = el("g", {class: "peer " + (TYPE_CLASS[any.type] || "node"), "data-peer": addr}, svg);
    el("circle", {cx: p.x, cy: p.y, r: 14}, g);
    text(g, p.x, p.y + 32, "name", addr);
    text(g, p.x, p.y + 47, "as", "AS " + any.remote_as);
  }
  for (const n of nodes) {
    const p = pos.get("node:" + n.name);
    const g = el("g", {class: "node" + (n.running ? "" : " stopped"), "data-node": n.name,
                       "data-prefixes-received": n.prefixes_received,
                       "data-prefixes-sent": n.prefixes_sent}, svg);
    el("circle", {cx: p.x, cy: p.y, r: 24}, g);
    text(g, p.x, p.y - 32, "name", n.name + (n.running ? "" : " (not running)"));
    text(g, p.x, p.y + 42, "counts", (n.ip || "") + (n.as != null ? " AS " + n.as : ""));
    text(g, p.x, p.y + 57, "counts", `prefixes in ${n.prefixes_received}, out ${n.prefixes_sent}`);
  }
  fillTable("sessions", topo.sessions, (s) => [s.node, s.remote, s.remote_as, s.type,
    {text: s.state, cls: "state-" + edgeState(s.state)}, s.prefixes_received, s.prefixes_sent, s.info]);
  fillTable("peerings", topo.peerings, (p) => [p.uuid, p.owner, p.node, p.remoteIpAddress,
    p.remoteAsn, p.provisioningStatus, p.state]);
}

function fillTable(id, rows, cells) {
  const body = $(id).tBodies[0];
  body.replaceChildren();
  for (const r of rows) {
    const tr = body.insertRow();
    for (const c of cells(r)) {
      const td = tr.insertCell();
      if (c !== null && typeof c === "object") {
        td.textContent = c.text ?? "";
        td.className = c.cls;
      } else {
        td.textContent = c ?? "";
      }
    }
  }
}

function start(id, secret) {
  creds = {id, secret};
  token = null;
  $("login").hidden = true;
  $("view").hidden = false;
  $("login_error").textContent = "";
  setStatus("signing in…");
  poll();
}

$("login").addEventListener("submit", (ev) => {
  ev.preventDefault();
  start($("client_id").value.trim(), $("client_secret").value);
  $("client_secret").value = "";
});

// For a wall screen or a test: /ui/#client_id=ID&client_secret=SECRET signs in at once
// (a URL fragment is never sent to the server); it is wiped from the address bar.
const frag = new URLSearchParams(location.hash.slice(1));
if (frag.get("client_id") && frag.get("client_secret")) {
  const id = frag.get("client_id"), secret = frag.get("client_secret");
  history.replaceState(null, "", location.pathname);
  start(id, secret);
}
