// The page's side of the demo: the browser's own WebSocket, talking to the wsdriver server at /chat.
"use strict";

const log = document.getElementById("log");
const status = document.getElementById("status");
const form = document.getElementById("compose");
const input = document.getElementById("message");
const send = document.getElementById("send");

function setStatus(state, text) {
  status.dataset.state = state;
  status.textContent = text;
}

function append(className, text, from) {
  const item = document.createElement("li");
  item.className = className;
  if (from) {
    const who = document.createElement("b");
    who.textContent = from;
    item.append(who, " ");
  }
  item.append(text);
  log.append(item);
  log.scrollTop = log.scrollHeight;
}

const url = new URL("chat", location.href);
url.protocol = location.protocol === "https:" ? "wss:" : "ws:";
const socket = new WebSocket(url);
let me = "";

socket.addEventListener("open", () => {
  setStatus("open", "connected");
  send.disabled = false;
  input.focus();
});

socket.addEventListener("message", ({ data }) => {
  const event = JSON.parse(data);
  if (event.type === "welcome") {
    me = event.name;
    append("notice", `You are ${me}${event.over ? ` (WebSocket over ${event.over})` : ""}.`);
  } else if (event.type === "presence") {
    setStatus("open", `connected · ${event.count} online`);
  } else if (event.type === "message") {
    append(event.from === me ? "message mine" : "message", event.text, event.from);
  }
});

socket.addEventListener("close", ({ code, reason }) => {
  setStatus("closed", `closed (${code}${reason ? `: ${reason}` : ""})`);
  send.disabled = true;
  append("notice", `Connection closed with ${code}${reason ? ` (${reason})` : ""}.`);
});

form.addEventListener("submit", (event) => {
  event.preventDefault();
  const text = input.value.trim();
  if (!text || socket.readyState !== WebSocket.OPEN) return;
  socket.send(text);
  input.value = "";
});
