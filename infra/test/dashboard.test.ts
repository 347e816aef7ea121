/**
 * The operator's dashboard (lib/dashboard.ts), as synthesized: every alarm's state, and the series
 * each alarm judges drawn from the alarm's own metric (namespace, name, dimensions, statistic,
 * period as the alarm has them in the template) against the alarm's threshold; the capacity behind
 * them; a name that differs per region (dashboards are global to an account).
 */
import { describe, expect, it } from 'vitest';
import { logicalId, propsOfType, synth, type Props } from './helpers.js';
import { README, headings } from './runbook.js';

/** The 5xx alarm's inputs (alarms.ts usingMetrics ids) and the labels the traffic graph shows them under. */
const TRAFFIC_LABELS: Record<string, string> = { requests: 'requests', t5xx: '5xx from the gateway', elb5xx: '5xx from the ALB (502/503/504)' };

/** A CloudFormation value as text: intrinsics become «Ref:X», «X.Attr», so the dashboard body can be parsed as JSON. */
function text(value: unknown): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number') return String(value);
  const v = value as Props;
  if ('Ref' in v) return `«Ref:${String(v.Ref)}»`;
  if ('Fn::GetAtt' in v) return `«${(v['Fn::GetAtt'] as string[]).join('.')}»`;
  if ('Fn::Join' in v) {
    const [separator, parts] = v['Fn::Join'] as [string, unknown[]];
    return parts.map(text).join(separator);
  }
  // Fn::Select / Fn::Split (the ALB's and target group's full names): shown whole, escaped for the JSON string it sits in.
  return `«${JSON.stringify(v).replace(/"/g, "'")}»`;
}

interface Template {
  Conditions?: Record<string, unknown>;
  Resources: Record<string, { Properties?: Props }>;
  Outputs: Record<string, { Value?: unknown } | undefined>;
}

/**
 * A template value as CloudFormation would resolve it at deploy time, given the pseudo parameters:
 * Ref (pseudo parameters; a dashboard's Ref is its name), Fn::Join, Fn::If over the template's
 * Fn::Equals conditions. Anything else throws, so a value built another way is seen, not guessed.
 */
function evaluate(value: unknown, template: Template, pseudo: Record<string, string>): string {
  const recurse = (v: unknown) => evaluate(v, template, pseudo);
  if (typeof value === 'string') return value;
  const v = value as Props;
  if ('Ref' in v) {
    const name = String(v.Ref);
    const resource = template.Resources[name];
    const known = pseudo[name] ?? (resource?.Properties?.DashboardName !== undefined ? recurse(resource.Properties.DashboardName) : undefined);
    if (known === undefined) throw new Error(`cannot evaluate Ref ${name}`);
    return known;
  }
  if ('Fn::Join' in v) {
    const [separator, parts] = v['Fn::Join'] as [string, unknown[]];
    return parts.map(recurse).join(separator);
  }
  if ('Fn::If' in v) {
    const [condition, whenTrue, whenFalse] = v['Fn::If'] as [string, unknown, unknown];
    const expression = template.Conditions?.[condition] as { 'Fn::Equals'?: [unknown, unknown] } | undefined;
    if (!expression?.['Fn::Equals']) throw new Error(`cannot evaluate condition ${condition}: ${JSON.stringify(expression)}`);
    const [a, b] = expression['Fn::Equals'];
    return recurse(recurse(a) === recurse(b) ? whenTrue : whenFalse);
  }
  throw new Error(`cannot evaluate ${JSON.stringify(value)}`);
}

interface Widget {
  type: string;
  properties: {
    title?: string;
    markdown?: string;
    alarms?: string[];
    metrics?: unknown[][];
    annotations?: { horizontal?: { value: number; label?: string }[] };
  };
}

function dashboardOf(template: ReturnType<typeof synth>['template']) {
  const [dashboard] = propsOfType(template, 'AWS::CloudWatch::Dashboard');
  if (!dashboard) throw new Error('no dashboard in the template');
  const body = JSON.parse(text(dashboard.DashboardBody)) as { widgets: Widget[] };
  return { name: text(dashboard.DashboardName), widgets: body.widgets };
}

/** A dashboard metric row [namespace, name, dim, value, …, { stat, period, … }] as one comparable shape. */
function metricOf(row: unknown[]): { namespace: string; name: string; dimensions: Record<string, string>; stat?: string; period?: number } | undefined {
  const last = row[row.length - 1];
  const options = typeof last === 'object' && last !== null ? (last as { stat?: string; period?: number; expression?: string }) : {};
  const names = row.filter((x): x is string => typeof x === 'string');
  if (names.length < 2) return undefined;
  const [namespace = '', name = '', ...dims] = names;
  const dimensions: Record<string, string> = {};
  for (let i = 0; i + 1 < dims.length; i += 2) dimensions[dims[i] ?? ''] = dims[i + 1] ?? '';
  return { namespace, name, dimensions, stat: options.stat, period: options.period };
}

describe('the CloudWatch dashboard', () => {
  const { stack, template } = synth();
  const { name, widgets } = dashboardOf(template);
  const alarms = Object.entries(template.findResources('AWS::CloudWatch::Alarm')).map(([id, r]) => ({ id, props: r.Properties as Props }));
  const graphs = widgets.filter((w) => w.type === 'metric' && w.properties.metrics !== undefined && w.properties.alarms === undefined);
  const drawn = graphs.flatMap((w) => (w.properties.metrics ?? []).map((row) => ({ widget: w, metric: metricOf(row), row })));
  const thresholdsOf = (w: Widget) => (w.properties.annotations?.horizontal ?? []).map((a) => a.value);

  it('is named after the stack and the region, so the same stack in two regions makes two dashboards', () => {
    expect(name).toBe(`${stack.stackName}-«Ref:AWS::Region»`);
  });

  it.each([
    ['aws', 'eu-west-1', 'console.aws.amazon.com'],
    ['aws-cn', 'cn-north-1', 'console.amazonaws.cn'],
    ['aws-us-gov', 'us-gov-west-1', 'console.amazonaws-us-gov.com'],
  ])("is linked by the DashboardUrl output: the console's page of this dashboard, in partition %s (%s) on %s", (partition, region, host) => {
    const json = template.toJSON() as Template;
    const url = evaluate(json.Outputs.DashboardUrl?.Value, json, { 'AWS::Partition': partition, 'AWS::Region': region });
    expect(url).toBe(`https://${host}/cloudwatch/home?region=${region}#dashboards/dashboard/${stack.stackName}-${region}`);
  });

  it('links the commercial console in a partition it has no console for, rather than failing the deploy over an output', () => {
    const json = template.toJSON() as Template;
    expect(evaluate(json.Outputs.DashboardUrl?.Value, json, { 'AWS::Partition': 'aws-iso', 'AWS::Region': 'us-iso-east-1' })).toMatch(/^https:\/\/console\.aws\.amazon\.com\//);
  });

  it("shows every alarm's state", () => {
    const status = widgets.filter((w) => w.properties.alarms !== undefined && w.properties.metrics === undefined);
    expect(status).toHaveLength(1);
    expect(alarms.length).toBeGreaterThanOrEqual(4);
    expect([...(status[0]?.properties.alarms ?? [])].sort()).toEqual(alarms.map((a) => `«${a.id}.Arn»`).sort());
  });

  it("draws each single-metric alarm's own metric against the alarm's threshold", () => {
    const single = alarms.filter((a) => typeof a.props.MetricName === 'string');
    expect(single.map((a) => a.props.MetricName).sort()).toEqual(['TargetResponseTime', 'UnHealthyHostCount']);
    for (const { props } of single) {
      const dimensions = Object.fromEntries((props.Dimensions as { Name: string; Value: unknown }[]).map((d) => [d.Name, text(d.Value)]));
      const wanted = { namespace: props.Namespace, name: props.MetricName, dimensions, stat: props.ExtendedStatistic ?? props.Statistic, period: props.Period };
      const found = drawn.filter((d) => JSON.stringify(d.metric) === JSON.stringify(wanted));
      expect(found.length, `${JSON.stringify(wanted)} in ${JSON.stringify(drawn.map((d) => d.metric))}`).toBe(1);
      const [only] = found;
      expect(only && thresholdsOf(only.widget)).toContain(props.Threshold);
    }
  });

  it("draws the 5xx alarm's expression, with the same metrics, against its threshold", () => {
    const alarm = alarms.find((a) => JSON.stringify(a.props.Metrics ?? []).includes('HTTPCode_Target_5XX_Count'));
    const metrics = alarm?.props.Metrics as { Id: string; Expression?: string; MetricStat?: { Metric: Props; Stat: string; Period: number } }[];
    const expression = metrics.find((q) => q.Expression !== undefined)?.Expression;
    const widget = graphs.find((w) => (w.properties.metrics ?? []).some((row) => (row[0] as { expression?: string }).expression === expression));
    expect(widget, `a graph of ${expression}`).toBeDefined();
    expect(thresholdsOf(widget!)).toContain(alarm?.props.Threshold);
    // Its inputs are the alarm's: each as a (hidden) row of that graph, with the alarm's id, statistic and period.
    const rows = (widget?.properties.metrics ?? []).slice(1).map((row) => ({ metric: metricOf(row), id: (row[row.length - 1] as { id?: string }).id }));
    for (const input of metrics.filter((q) => q.MetricStat !== undefined)) {
      const m = input.MetricStat!;
      const dimensions = Object.fromEntries((m.Metric.Dimensions as { Name: string; Value: unknown }[]).map((d) => [d.Name, text(d.Value)]));
      expect(rows).toContainEqual({ id: input.Id, metric: { namespace: m.Metric.Namespace, name: m.Metric.MetricName, dimensions, stat: m.Stat, period: m.Period } });
    }
  });

  it("draws the single-prediction latency's p50 and p99 from the alarm's metric, against the alarm's threshold in ms", () => {
    const alarm = alarms.find((a) => JSON.stringify(a.props.Metrics ?? []).includes('SinglePredictionLatency'));
    const inputs = (alarm?.props.Metrics as { MetricStat?: { Metric: Props; Stat: string; Period: number } }[]).flatMap((q) => (q.MetricStat ? [q.MetricStat] : []));
    const rank = inputs.find((i) => i.Stat.startsWith('PR(:'));
    const thresholdMs = Number(/^PR\(:([\d.]+)\)$/.exec(rank?.Stat ?? '')?.[1]);
    expect(thresholdMs).toBe(10);
    const latency = drawn.filter((d) => d.metric?.namespace === rank?.Metric.Namespace && d.metric?.name === rank?.Metric.MetricName);
    expect(latency.map((d) => d.metric?.stat).sort()).toEqual(['p50', 'p99']);
    for (const d of latency) {
      expect(d.metric).toMatchObject({ dimensions: {}, period: rank?.Period });
      expect(thresholdsOf(d.widget)).toContain(thresholdMs);
    }
  });

  it('follows the threshold settings', () => {
    const s = synth({ singlePredictionP99Ms: 25, p99LatencySeconds: 3, fiveXxRatePercent: 2 });
    const values = dashboardOf(s.template).widgets.flatMap((w) => thresholdsOf(w));
    expect(values).toEqual(expect.arrayContaining([25, 3, 2]));
  });

  it('shows the capacity: healthy targets, running against desired tasks, the service CPU and memory', () => {
    const service = logicalId(stack, stack.gateway.service);
    const names = drawn.map((d) => `${d.metric?.namespace}/${d.metric?.name}`);
    expect(names).toEqual(expect.arrayContaining(['AWS/ApplicationELB/HealthyHostCount', 'AWS/ECS/CPUUtilization', 'AWS/ECS/MemoryUtilization']));
    // The fewest healthy targets in the minute: a dip an average would hide.
    expect(drawn.filter((d) => d.metric?.name === 'HealthyHostCount').map((d) => d.metric?.stat)).toEqual(['Minimum']);
    const tasks = drawn.filter((d) => d.metric?.namespace === 'ECS/ContainerInsights');
    expect(tasks.map((d) => d.metric?.name).sort()).toEqual(['DesiredTaskCount', 'RunningTaskCount']);
    for (const d of tasks) expect(d.metric?.dimensions).toEqual({ ClusterName: `«Ref:${logicalId(stack, stack.gateway.cluster)}»`, ServiceName: `«${service}.Name»` });
  });

  it("draws the traffic the 5xx rate is made of, each series the alarm's own input under its label: requests, the gateway's 5xx, the ALB's 5xx", () => {
    const alarm = alarms.find((a) => JSON.stringify(a.props.Metrics ?? []).includes('HTTPCode_Target_5XX_Count'));
    const inputs = (alarm?.props.Metrics as { Id: string; MetricStat?: { Metric: Props; Stat: string; Period: number } }[]).filter((q) => q.MetricStat !== undefined);
    expect(inputs.map((q) => q.Id).sort()).toEqual(Object.keys(TRAFFIC_LABELS).sort());
    const shown = drawn.filter((d) => (d.row[d.row.length - 1] as { visible?: boolean }).visible !== false);
    for (const input of inputs) {
      const m = input.MetricStat!;
      const dimensions = Object.fromEntries((m.Metric.Dimensions as { Name: string; Value: unknown }[]).map((d) => [d.Name, text(d.Value)]));
      const wanted = { namespace: m.Metric.Namespace, name: m.Metric.MetricName, dimensions, stat: m.Stat, period: m.Period };
      const labels = shown.filter((d) => JSON.stringify(d.metric) === JSON.stringify(wanted)).map((d) => (d.row[d.row.length - 1] as { label?: string }).label);
      expect(labels, `${input.Id} (${String(m.Metric.MetricName)}) drawn`).toEqual([TRAFFIC_LABELS[input.Id]]);
    }
  });

  it('lists every saved query, by the name it is saved under, in its header', () => {
    const saved = propsOfType(template, 'AWS::Logs::QueryDefinition').map((d) => String(d.Name));
    expect(saved.length).toBeGreaterThan(0);
    const header = widgets.filter((w) => w.type === 'text').map((w) => w.properties.markdown ?? '').join('\n');
    expect(saved.filter((n) => !header.includes(`*${n}*`))).toEqual([]);
  });

  it('points to the runbook, "When an alarm fires", by the heading infra/README.md has', () => {
    const header = widgets.filter((w) => w.type === 'text').map((w) => w.properties.markdown ?? '').join('\n');
    const named = [...header.matchAll(/infra\/README\.md "([^"]+)"/g)].map((m) => m[1] ?? '');
    expect(named).toContain('When an alarm fires');
    expect(named.filter((heading) => !headings(README).some((h) => h.title === heading))).toEqual([]);
  });

  it("draws the autoscaling floor and ceiling on the task count and the CPU target on the CPU, from the stack's settings", () => {
    const s = synth({ desiredCount: 3, maxCount: 9, cpuTargetPercent: 45 });
    const custom = dashboardOf(s.template).widgets;
    const linesOn = (namespace: string, name: string) => {
      const widget = custom.find((w) => (w.properties.metrics ?? []).some((row) => metricOf(row)?.namespace === namespace && metricOf(row)?.name === name));
      return (widget?.properties.annotations?.horizontal ?? []).map((a) => `${a.label ?? ''}=${a.value}`);
    };
    expect(linesOn('ECS/ContainerInsights', 'RunningTaskCount')).toEqual(['autoscaling floor 3=3', 'autoscaling max 9=9']);
    expect(linesOn('AWS/ECS', 'CPUUtilization')).toEqual(['CPU scaling target 45%=45']);
  });
});
