/** Runs our SeriesDetector over NAB series: each value seen once, in order, with its timestamp. */
import { SeriesDetector, type SeriesDetectorParams } from '../../../src/detect/series-detector.js';
import type { NabSeries } from './corpus.js';
import type { FileScores } from './scorer.js';

export function runSeriesDetector(series: readonly NabSeries[], params: Partial<SeriesDetectorParams>): FileScores[] {
  return series.map((s) => {
    const detector = new SeriesDetector(params);
    const scores = new Float64Array(s.values.length);
    for (let i = 0; i < s.values.length; i++) scores[i] = detector.update(s.values[i]!, s.timestamps[i]!).score;
    return { scores, windows: s.windows };
  });
}
