// dudao-web: live updates of the overview and the alarms from /events (Server-Sent Events).
// Every value from the services is set with textContent: nothing is parsed as HTML.
"use strict";
(function () {
  const body = document.body;
  const page = body.dataset.page;
  if (page !== "overview" && page !== "town") return;
  const town = body.dataset.town || "";
  const csrfMeta = document.querySelector('meta[name="csrf-token"]');
  const csrf = csrfMeta ? csrfMeta.getAttribute("content") : "";

  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  function hidden(form, name, value) {
    const input = document.createElement("input");
    input.type = "hidden";
    input.name = name;
    input.value = value;
    form.appendChild(input);
  }

  function rateCell(rate) {
    const td = el("td", "rate " + rate.css);
    td.dataset.rate = rate.id;
    td.title = rate.detail;
    td.appendChild(el("span", "v", rate.value));
    td.appendChild(document.createTextNode(" "));
    td.appendChild(el("span", "s", rate.label));
    return td;
  }

  function row(r, isCity) {
    const tr = document.createElement("tr");
    tr.dataset.town = r.town_id;
    if (isCity) tr.className = "city";
    const name = el("td", "town-name");
    if (isCity) {
      name.textContent = r.name;
    } else {
      const a = el("a", "", r.name);
      a.href = "/town/" + encodeURIComponent(r.town_id);
      name.appendChild(a);
    }
    tr.appendChild(name);
    tr.appendChild(el("td", "", r.kindergartens));
    tr.appendChild(el("td", "", r.unreported));
    for (const rate of r.rates) tr.appendChild(rateCell(rate));
    return tr;
  }

  function alarmItem(a) {
    const li = el("li", "alarm" + (a.acked ? " acked" : ""));
    li.dataset.alertId = a.alert_id;
    li.appendChild(el("span", "a-time", a.time));
    li.appendChild(el("span", "a-town", a.town));
    li.appendChild(el("span", "a-inst", a.institution));
    li.appendChild(el("span", "a-device", a.device));
    li.appendChild(el("span", "a-note", a.note));
    if (a.acked) {
      li.appendChild(el("span", "a-acked", "已确认：" + a.acked_by + " " + a.acked_at));
    } else {
      const form = el("form", "inline");
      form.method = "post";
      form.action = "/alarms/ack";
      hidden(form, "csrf", csrf);
      hidden(form, "alert_id", a.alert_id);
      hidden(form, "back", town ? "/town/" + encodeURIComponent(town) : "/");
      const button = el("button", "ack", "确认");
      button.type = "submit";
      form.appendChild(button);
      li.appendChild(form);
    }
    return li;
  }

  function render(model) {
    document.getElementById("as-of").textContent = model.as_of;
    const problems = document.getElementById("problems");
    problems.replaceChildren(...model.problems.map((p) => el("p", "", "服务不可用：" + p)));
    const tbody = document.getElementById("rates-body");
    const rows = model.towns.map((r) => row(r, false));
    if (model.city) rows.push(row(model.city, true));
    tbody.replaceChildren(...rows);
    document.getElementById("alarms").replaceChildren(...model.alarms.map(alarmItem));
    document.getElementById("alarm-count").textContent = model.open_alarms;
    document.getElementById("alarm-panel").classList.toggle("firing", model.open_alarms > 0);
    document.getElementById("no-alarms").hidden = model.alarms.length > 0;
    body.dataset.version = model.version;
  }

  const live = document.getElementById("live");
  const source = new EventSource("/events" + (town ? "?town=" + encodeURIComponent(town) : ""));
  source.addEventListener("update", (event) => {
    render(JSON.parse(event.data));
    live.textContent = "实时";
    live.className = "live on";
  });
  source.addEventListener("tick", (event) => {
    document.getElementById("as-of").textContent = JSON.parse(event.data).as_of;
    live.textContent = "实时";
    live.className = "live on";
  });
  source.addEventListener("error", () => {
    live.textContent = "连接中断，重连中…";
    live.className = "live off";
  });
})();
