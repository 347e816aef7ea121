/**
 * Starts GraphiQL on /ui/graphiql without inline script (the page's CSP forbids it):
 * loaded with `defer` before GraphiQL's own bundle, it points Monaco at the worker files
 * served beside it, then renders once the bundle has defined `YogaGraphiQL`. Worker URLs
 * and the preloaded tabs are injected at build time (ui/src/build.ts).
 */
import type { GraphiQLOptions } from 'graphql-yoga';
import { couldNotStart, RELOAD, SCRIPT_NOT_LOADED, sayNotStarted } from '../not-loaded.js';

declare const __GRAPHIQL_WORKERS__: Readonly<Record<string, string>>;
declare const __GRAPHIQL_OPTIONS__: GraphiQLOptions;

/** GraphiQL props that Yoga passes through unchanged (they win over its own query/variables handling). */
interface BootOptions extends GraphiQLOptions {
  initialQuery: string;
  initialVariables: string;
  initialHeaders: string;
}

interface GraphiQLGlobal {
  MonacoEnvironment?: { globalAPI: boolean; getWorkerUrl(moduleId: string, label: string): string };
  YogaGraphiQL?: { renderYogaGraphiQL(root: Element, options: BootOptions | GraphiQLOptions): void };
}

/** A tab as GraphiQL 5 saves it in localStorage (its getDefaultTabState reads these back). */
interface SavedTab {
  readonly id: string;
  readonly hash: string | null;
  readonly title: string;
  readonly query: string | null;
  readonly variables: string | null;
  readonly headers: string | null;
  readonly operationName: string | null;
  readonly response: string | null;
}

interface SavedTabs {
  readonly tabs: readonly SavedTab[];
  readonly activeTabIndex: number;
}

const TAB_STATE_KEY = 'graphiql:tabState';
/** The preloaded tabs (query and variables) of the build that last started GraphiQL in this browser. */
const PRELOADED_KEY = 'churn-graphiql:preloaded';

interface Preloaded {
  readonly query: string | null;
  readonly variables: string | null;
}

const preloaded = (): Preloaded[] => (__GRAPHIQL_OPTIONS__.defaultTabs ?? []).map((tab) => ({ query: tab.query ?? null, variables: tab.variables ?? null }));

function savedTabs(): SavedTabs | null {
  try {
    const state = JSON.parse(localStorage.getItem(TAB_STATE_KEY) ?? 'null') as SavedTabs | null;
    return state && Array.isArray(state.tabs) && state.tabs[state.activeTabIndex] ? state : null;
  } catch {
    return null;
  }
}

const operationNameOf = (query: string | null) => /^(?!#).*(?:query|subscription|mutation)\s+(\w+)/m.exec(query ?? '')?.[1] ?? null;

function save(state: SavedTabs): SavedTabs | null {
  try {
    localStorage.setItem(TAB_STATE_KEY, JSON.stringify(state));
    localStorage.setItem(PRELOADED_KEY, JSON.stringify(preloaded()));
    return state;
  } catch {
    return null;
  }
}

/** This build's preloaded tab `index`, as GraphiQL saves a tab. */
function preloadedTab(index: number): SavedTab {
  const tab = (__GRAPHIQL_OPTIONS__.defaultTabs ?? [])[index];
  const operationName = operationNameOf(tab?.query ?? null);
  const fields = { query: tab?.query ?? null, variables: tab?.variables ?? null, headers: tab?.headers ?? null };
  return { id: `preloaded-${index}`, hash: null, title: operationName ?? '<untitled>', ...fields, operationName, response: null };
}

/** Saves the preloaded tabs as if GraphiQL had, so the first visit takes the same path as a reload. */
function seedTabs(): SavedTabs | null {
  const tabs = (__GRAPHIQL_OPTIONS__.defaultTabs ?? []).map((_tab, index) => preloadedTab(index));
  if (tabs.length === 0) return null;
  return save({ tabs, activeTabIndex: 0 });
}

/**
 * Whether a saved tab's variables are a preloaded tab's: the build preloads no variables as null,
 * and GraphiQL saves a tab it has shown with empty variables as "" (ModelInfo, GroupReport).
 */
const sameVariables = (preloadedVariables: string | null | undefined, saved: string | null) => (preloadedVariables ?? '') === (saved ?? '');

/**
 * The saved tabs, with every preloaded tab nobody edited moved on to this build's version of it:
 * GraphiQL restores saved tabs as they were, so after an upgrade that changed an operation
 * (a field added to ModelInfo, one renamed) people kept running the old text, and a field the
 * schema dropped failed validation. A tab someone edited is theirs and stays as it is. An
 * operation this build preloads and the last one did not (by name: GroupReport) is added once,
 * after the saved tabs: closed, it stays closed, since the build then knows it.
 */
function upgradedTabs(state: SavedTabs): SavedTabs {
  let before: unknown;
  try {
    before = JSON.parse(localStorage.getItem(PRELOADED_KEY) ?? 'null');
  } catch {
    before = null;
  }
  const now = preloaded();
  if (JSON.stringify(before) === JSON.stringify(now)) return state;
  const old = Array.isArray(before) ? (before as Partial<Preloaded>[]) : [];
  const tabs = state.tabs.map((tab) => {
    const index = old.findIndex((o) => o.query === tab.query && sameVariables(o.variables, tab.variables));
    const next = now[index];
    if (index < 0 || !next) return tab;
    const operationName = operationNameOf(next.query);
    return { ...tab, ...next, operationName, title: operationName ?? tab.title, response: null };
  });
  // Only against a known earlier build: saved tabs without its record are kept as they are.
  const known = new Set(old.map((o) => operationNameOf(o.query ?? null)));
  const added = Array.isArray(before) ? now.flatMap((n, index) => (known.has(operationNameOf(n.query)) ? [] : [preloadedTab(index)])) : [];
  return save({ ...state, tabs: [...tabs, ...added] }) ?? state;
}

/**
 * GraphiQL (graphiql 5 in Yoga 5.24) picks the tab to show by comparing the query,
 * variables and headers it is started with against every saved tab, and opens a new tab
 * when none matches. Left to itself it compares against editor contents it stores apart
 * from the tabs (and against nothing on a first visit, where it also ignores the first
 * tab's variables), so every reload added a tab. Starting it with exactly the tab to show
 * (the one the address's ?query= names, else the active one) restores the saved tabs as
 * they were; the first visit seeds the saved tabs so it takes the same path.
 */
function startingOptions(): BootOptions | GraphiQLOptions {
  const saved = savedTabs();
  const state = saved ? upgradedTabs(saved) : seedTabs();
  if (!state) return __GRAPHIQL_OPTIONS__;
  const active = state.tabs[state.activeTabIndex] as SavedTab;
  const wanted = new URL(location.href).searchParams.get('query') ?? active.query;
  const tab = [active, ...state.tabs].find((t) => t.query === wanted) ?? { query: wanted, variables: null, headers: null };
  return { ...__GRAPHIQL_OPTIONS__, initialQuery: tab.query ?? '', initialVariables: tab.variables ?? '', initialHeaders: tab.headers ?? '' };
}

const scope = globalThis as GraphiQLGlobal;
scope.MonacoEnvironment = {
  globalAPI: false,
  // Monaco asks by label (editorWorkerService, json, graphql); unknown labels get the generic editor worker.
  getWorkerUrl: (_moduleId, label) => __GRAPHIQL_WORKERS__[label] ?? (__GRAPHIQL_WORKERS__['editorWorkerService'] as string),
};

/**
 * GraphiQL's font (inlined in its CSS, `font-display: swap`), loaded before the first
 * render: when it swaps in under rendered tabs, their reorder animation is left with
 * offsets that move a tab away from the pointer as soon as it takes focus, so the first
 * click on it did nothing.
 */
const TAB_FONTS = ['400 1em Roboto', '500 1em Roboto'];

document.addEventListener('DOMContentLoaded', () => {
  const root = document.getElementById('root');
  const graphiql = scope.YogaGraphiQL;
  if (!root || !graphiql) {
    // GraphiQL's own 1.2 MB, a 404 from a task serving another build or cut short by a proxy.
    if (root) sayNotStarted(root, couldNotStart('GraphiQL', SCRIPT_NOT_LOADED, RELOAD), 'churn-not-loaded');
    throw new Error('GraphiQL did not load');
  }
  void Promise.allSettled(TAB_FONTS.map((font) => document.fonts.load(font))).then(() => graphiql.renderYogaGraphiQL(root, startingOptions()));
});
