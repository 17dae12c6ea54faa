// The model picker: one per view (chat, agents), each with its own choice, and what the top bar says will be used.
//
// Where the models come from:
// - `GET /api/models` (API.md section 10: `[{"name","type"}]`, the routes) when it answers 200: a dropdown of the
//   routes grouped by type, plus the server's default. An unknown name would be refused there, so there is no
//   free entry.
// - Otherwise (a server without routes) what `GET /api/info` knows: the default model, the built-in simulated
//   models, and "Other model…", a name sent upstream as it is.

import { api } from './api.js';
import { serverInfo } from './settings.js';

/** `routes`: the list of `GET /api/models`, or null when the server has none. */
export const catalog = { routes: null };

const CUSTOM = '__custom';
const TYPE_LABELS = { thinking: 'Thinking', fast: 'Fast', instruct: 'Instruct' };
const BUILT_IN = ['simulated', 'simulated-reasoning'];

/** Reads `GET /api/models`; a server without it (404) keeps the `/api/info` list. */
export async function loadModels() {
  try {
    const list = await api('models');
    const routes = Array.isArray(list) ? list : Array.isArray(list?.data) ? list.data : null;
    catalog.routes = routes && routes.length
      ? routes.filter((r) => r && typeof r.name === 'string').map((r) => ({ name: r.name, type: r.type || 'other' }))
      : null;
  } catch {
    catalog.routes = null;
  }
}

function option(value, label) {
  const o = document.createElement('option');
  o.value = value;
  o.textContent = label;
  return o;
}

/**
 * A `<select>` of the models with, for a server without routes, a text box for any other name.
 * `get()` reads the view's choice ('' for the default), `set(value)` stores it.
 */
export class ModelPicker {
  constructor(select, input, { get, set }) {
    this.select = select;
    this.input = input;
    this.get = get;
    this.set = set;
    select.addEventListener('change', () => {
      if (select.value === CUSTOM) {
        input.hidden = false;
        input.value = this.get() && !this.known(this.get()) ? this.get() : '';
        input.focus();
        return;
      }
      input.hidden = true;
      this.set(select.value);
    });
    input.addEventListener('change', () => this.set(input.value.trim()));
  }

  known(name) {
    return catalog.routes ? catalog.routes.some((r) => r.name === name || r.type === name) : BUILT_IN.includes(name);
  }

  /** Rebuilds the options from the catalog and shows the current choice. */
  render() {
    const { select } = this;
    const defaultLabel = `Default · ${serverInfo.model || (serverInfo.loaded ? 'provider default' : 'unknown')}`;
    select.replaceChildren(option('', defaultLabel));
    if (catalog.routes) {
      const groups = new Map();
      for (const r of catalog.routes) {
        if (!groups.has(r.type)) groups.set(r.type, []);
        groups.get(r.type).push(r);
      }
      for (const [type, routes] of groups) {
        const group = document.createElement('optgroup');
        group.label = TYPE_LABELS[type] || type;
        for (const r of routes) group.append(option(r.name, r.name));
        select.append(group);
      }
    } else {
      const group = document.createElement('optgroup');
      group.label = 'Built in (no real model)';
      for (const name of BUILT_IN) group.append(option(name, name));
      select.append(group, option(CUSTOM, 'Other model…'));
    }
    this.show();
  }

  /** Selects the current choice; a name not in the list shows in the text box ("Other model…"). */
  show() {
    const value = this.get() || '';
    if (!value || this.known(value)) {
      this.select.value = value;
      this.input.hidden = true;
    } else if (!catalog.routes) {
      this.select.value = CUSTOM;
      this.input.hidden = false;
      if (this.input.value !== value) this.input.value = value;
    } else {
      // A name the routes do not know would be refused: the default is what will be used.
      this.select.value = '';
      this.input.hidden = true;
      this.set('');
    }
  }
}
