/**
 * Line charts as SVG for `--svg FILE`: a Vega-Lite spec compiled to Vega and rendered headless
 * (`renderer: 'none'`, no browser or canvas). Text widths are estimated without a canvas, so
 * labels may sit a pixel or two off; the data are exact. Only line charts: that is all the model
 * commands draw.
 */
import { writeFileSync } from 'node:fs';
import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';

export interface ChartSeries {
  readonly name: string;
  readonly points: readonly (readonly [number, number])[];
}

export interface LineChart {
  readonly title: string;
  readonly xTitle: string;
  readonly yTitle: string;
  readonly series: readonly ChartSeries[];
  readonly xScale?: 'linear' | 'log';
  readonly yScale?: 'linear' | 'log';
  /** Fixed y range, e.g. [0, 1] for availabilities. */
  readonly yDomain?: readonly [number, number];
}

export async function lineChartSvg(chart: LineChart): Promise<string> {
  const scale = (type: 'linear' | 'log', domain?: readonly [number, number]) =>
    domain ? { type, domain: [...domain] } : type === 'log' ? { type } : { type, zero: false };
  const values = chart.series.flatMap((s) => s.points.filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y)).map(([x, y]) => ({ x, y, series: s.name })));
  const spec = {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title: chart.title,
    width: 560,
    height: 320,
    data: { values },
    mark: { type: 'line', point: true },
    encoding: {
      x: { field: 'x', type: 'quantitative', title: chart.xTitle, scale: scale(chart.xScale ?? 'linear') },
      y: { field: 'y', type: 'quantitative', title: chart.yTitle, scale: scale(chart.yScale ?? 'linear', chart.yDomain) },
      color: { field: 'series', type: 'nominal', title: null },
    },
  } as TopLevelSpec;
  const view = new vega.View(vega.parse(compile(spec).spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

export async function writeLineChart(file: string, chart: LineChart): Promise<void> {
  writeFileSync(file, await lineChartSvg(chart));
}
