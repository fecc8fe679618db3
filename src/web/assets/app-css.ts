/**
 * The dashboard's stylesheet, served at /assets/app.css (a string here, so the build needs no
 * copy step). Readable on a laptop and a phone: under 720px wide, tables become stacked cards.
 */
export const APP_CSS = `
:root {
  --fg: #1b1f24; --muted: #59636e; --bg: #ffffff; --panel: #f6f8fa; --line: #d1d9e0;
  --accent: #0b5cad; --ok: #1a7f37; --warn: #9a6700; --bad: #cf222e; --focus: #fb8c00;
  color-scheme: light;
}
* { box-sizing: border-box; }
html { font-size: 16px; }
body {
  margin: 0; color: var(--fg); background: var(--bg);
  font: 1rem/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
}
a { color: var(--accent); }
a:focus-visible, button:focus-visible, input:focus-visible, select:focus-visible, summary:focus-visible {
  outline: 3px solid var(--focus); outline-offset: 2px;
}
code { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 0.9em; word-break: break-all; }
.skip { position: absolute; left: -9999px; }
.skip:focus { left: 0.5rem; top: 0.5rem; background: var(--bg); padding: 0.5rem; z-index: 10; }
.sr-only {
  position: absolute; width: 1px; height: 1px; padding: 0; margin: -1px; overflow: hidden;
  clip: rect(0, 0, 0, 0); white-space: nowrap; border: 0;
}
[hidden] { display: none !important; }
.top {
  display: flex; flex-wrap: wrap; align-items: center; gap: 0.5rem 1.5rem;
  padding: 0.6rem 1.25rem; border-bottom: 1px solid var(--line); background: var(--panel);
}
.brand { font-weight: 700; font-size: 1.15rem; text-decoration: none; color: var(--fg); }
.top nav ul { display: flex; flex-wrap: wrap; gap: 0.25rem 1rem; list-style: none; margin: 0; padding: 0; }
.top nav a { text-decoration: none; padding: 0.2rem 0; }
.top nav a[aria-current="page"] { font-weight: 700; border-bottom: 2px solid var(--accent); }
.who { margin-left: auto; display: flex; align-items: center; gap: 0.6rem; font-size: 0.9rem; }
form.inline { display: inline; margin: 0; }
button.link { background: none; border: 0; color: var(--accent); text-decoration: underline; padding: 0; font: inherit; cursor: pointer; }
main { padding: 1rem 1.25rem 3rem; max-width: 1280px; margin: 0 auto; }
h1 { font-size: 1.6rem; margin: 0.5rem 0 0.75rem; }
h2 { font-size: 1.2rem; margin: 1.5rem 0 0.5rem; }
h3 { font-size: 1rem; margin: 0 0 0.4rem; }
.lead { color: var(--muted); margin-top: 0; }
.muted { color: var(--muted); }
.small { font-size: 0.875rem; }
.crumbs { font-size: 0.875rem; color: var(--muted); margin: 0; }
.badge {
  display: inline-block; padding: 0 0.5em; border-radius: 1em; font-size: 0.8rem; font-weight: 600;
  border: 1px solid var(--line); background: var(--panel); white-space: nowrap;
}
.sev-high, .status-failed { color: #fff; background: var(--bad); border-color: var(--bad); }
.sev-medium, .status-pending { color: #3b2300; background: #ffe08a; border-color: #e5b400; }
.sev-low { color: var(--fg); }
.status-approved, .status-done, .status-ok { color: #fff; background: var(--ok); border-color: var(--ok); }
.status-denied, .status-skipped { color: var(--fg); background: #eaeef2; }
.status-exempt { background: #ddf4ff; }
.grid { display: grid; grid-template-columns: repeat(auto-fit, minmax(240px, 1fr)); gap: 1rem; }
.card { border: 1px solid var(--line); border-radius: 8px; padding: 0.75rem 1rem; }
.card h2 { margin-top: 0; font-size: 1.05rem; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; vertical-align: top; padding: 0.45rem 0.6rem; border-bottom: 1px solid var(--line); }
thead th { background: var(--panel); font-size: 0.875rem; white-space: nowrap; }
thead th a { color: var(--fg); }
.num { text-align: right; font-variant-numeric: tabular-nums; }
table.counts th { font-weight: 400; }
.table-wrap { overflow-x: auto; }
.filters { display: flex; flex-wrap: wrap; gap: 0.75rem; align-items: flex-end; margin: 0.5rem 0 1rem; }
.field { display: flex; flex-direction: column; gap: 0.2rem; font-size: 0.875rem; }
.field.wide { flex: 1 1 16rem; }
.field.narrow input { width: 6rem; }
input[type="text"], input[type="search"], input[type="number"], select {
  font: inherit; padding: 0.35rem 0.5rem; border: 1px solid #8c959f; border-radius: 6px; background: #fff; min-height: 2.25rem;
}
button {
  font: inherit; padding: 0.4rem 0.9rem; border-radius: 6px; border: 1px solid #8c959f; background: var(--panel);
  cursor: pointer; min-height: 2.25rem;
}
button.approve { background: var(--ok); color: #fff; border-color: var(--ok); }
button.deny, button.danger { background: var(--bad); color: #fff; border-color: var(--bad); }
.actions, .buttons { display: flex; gap: 0.5rem; align-items: center; flex-wrap: wrap; }
.export { font-size: 0.9rem; }
.pager { display: flex; gap: 1rem; align-items: center; justify-content: center; margin: 1rem 0; flex-wrap: wrap; }
.empty { border: 1px dashed var(--line); border-radius: 8px; padding: 1.25rem; background: var(--panel); }
.empty h2 { margin-top: 0; }
.callout { border-left: 4px solid var(--accent); background: #ddf4ff; padding: 0.6rem 1rem; border-radius: 4px; }
.notice { padding: 0.6rem 1rem; border-radius: 6px; margin: 0.5rem 0; }
.notice.ok { background: #dafbe1; border: 1px solid var(--ok); }
.notice.warn { background: #fff8c5; border: 1px solid var(--warn); }
.irreversible { color: var(--bad); margin: 0.25rem 0; }
.sentence { margin: 0 0 0.25rem; font-weight: 500; }
.bulk fieldset { border: 1px solid var(--line); border-radius: 8px; display: flex; flex-wrap: wrap; gap: 0.75rem; align-items: flex-end; }
.bulk legend { font-weight: 600; padding: 0 0.25rem; }
.select-all { align-self: center; }
.row-controls { display: flex; flex-direction: column; gap: 0.4rem; min-width: 17rem; }
.row-controls .buttons { flex-wrap: nowrap; }
table.findings abbr { white-space: nowrap; }
.row-form { display: none; }
.tabs { display: flex; flex-wrap: wrap; gap: 0.5rem 1rem; margin: 0.75rem 0; }
.tabs a[aria-current="page"] { font-weight: 700; }
a.count { text-decoration: none; margin-right: 0.5rem; white-space: nowrap; }
details summary { cursor: pointer; }
.evidence details { margin: 0.25rem 0; }
.evidence ul { margin: 0.25rem 0 0.5rem 1rem; padding: 0; font-size: 0.875rem; }
.facts { display: grid; grid-template-columns: max-content 1fr; gap: 0.25rem 1rem; }
.facts dt { color: var(--muted); }
.facts dd { margin: 0; }
.pairs { display: grid; grid-template-columns: max-content 1fr; gap: 0 0.5rem; margin: 0; font-size: 0.85rem; }
.pairs dt { color: var(--muted); }
.pairs dd { margin: 0; word-break: break-word; }
ul.plain { list-style: none; padding: 0; }
ul.plain li { padding: 0.25rem 0; border-bottom: 1px solid var(--line); }
.item { border: 1px solid var(--line); border-radius: 8px; padding: 0.75rem 1rem; margin: 0.5rem 0; }
.timeline { list-style: none; padding: 0; }
.timeline li { padding: 0.5rem 0; border-bottom: 1px solid var(--line); }
.timeline p { margin: 0.2rem 0 0; }
.error { max-width: 40rem; }
.chart svg { width: 100%; height: auto; max-height: 260px; }
.chart .bar { fill: #54aeff; }
.chart .bar.latest { fill: var(--accent); }
.chart .tick line { stroke: var(--line); }
.chart text { font-size: 12px; fill: var(--muted); }
.chart figcaption { font-size: 0.875rem; }
figure { margin: 0; }
@media (max-width: 720px) {
  main { padding: 0.75rem; }
  .who { margin-left: 0; }
  h1 { font-size: 1.35rem; }
  table.findings thead, table.items thead, table.audit thead { display: none; }
  table.findings, table.findings tbody, table.findings tr, table.findings td,
  table.items, table.items tbody, table.items tr, table.items td,
  table.audit, table.audit tbody, table.audit tr, table.audit td { display: block; width: 100%; }
  table.findings tr, table.items tr, table.audit tr {
    border: 1px solid var(--line); border-radius: 8px; margin: 0 0 0.75rem; padding: 0.25rem 0.5rem;
  }
  table.findings td, table.items td, table.audit td { border: 0; padding: 0.25rem 0; }
  table.findings td::before, table.items td::before, table.audit td::before {
    content: attr(data-label); display: block; font-size: 0.75rem; color: var(--muted); text-transform: uppercase;
  }
  table.items td.select::before { content: none; }
  table.items td.select, table.items td.num { display: inline-block; width: auto; text-align: left; }
  table.items td.num::before { display: inline; margin-right: 0.25rem; }
  .row-controls .buttons { flex-wrap: wrap; }
  .facts { grid-template-columns: 1fr; }
  .facts dd { margin-bottom: 0.4rem; }
  .field, .field.wide { flex: 1 1 100%; }
  .row-controls { min-width: 0; }
}
`;
