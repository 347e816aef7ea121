/**
 * Starts GraphiQL on /ui/graphiql without inline script (the page's CSP forbids it):
 * loaded with `defer` before GraphiQL's own bundle, it points Monaco at the worker files
 * served beside it, then renders once the bundle has defined `YogaGraphiQL`. Worker URLs
 * and the preloaded tabs are injected at build time (ui/src/build.ts).
 */
import type { GraphiQLOptions } from 'graphql-yoga';

declare const __GRAPHIQL_WORKERS__: Readonly<Record<string, string>>;
declare const __GRAPHIQL_OPTIONS__: GraphiQLOptions;

interface GraphiQLGlobal {
  MonacoEnvironment?: { globalAPI: boolean; getWorkerUrl(moduleId: string, label: string): string };
  YogaGraphiQL?: { renderYogaGraphiQL(root: Element, options: GraphiQLOptions): void };
}

const scope = globalThis as GraphiQLGlobal;
scope.MonacoEnvironment = {
  globalAPI: false,
  // Monaco asks by label (editorWorkerService, json, graphql); unknown labels get the generic editor worker.
  getWorkerUrl: (_moduleId, label) => __GRAPHIQL_WORKERS__[label] ?? (__GRAPHIQL_WORKERS__['editorWorkerService'] as string),
};

document.addEventListener('DOMContentLoaded', () => {
  const root = document.getElementById('root');
  if (!root || !scope.YogaGraphiQL) throw new Error('GraphiQL did not load');
  scope.YogaGraphiQL.renderYogaGraphiQL(root, __GRAPHIQL_OPTIONS__);
});
