import type { Anomaly } from '../model/anomaly.js';
import type { Diagnosis } from '../model/diagnosis.js';
import { AnomalyStore, type FeedbackVerdict, type NewEvent } from './anomaly-store.js';
import type { SqliteDatabase } from './database.js';
import type { StoreHealth } from './store-health.js';

/** An AnomalyStore that reports the outcome of every write to StoreHealth (and still throws). */
export class MonitoredAnomalyStore extends AnomalyStore {
  constructor(
    db: SqliteDatabase,
    private readonly health: StoreHealth,
  ) {
    super(db);
  }

  private write<T>(operation: string, fn: () => T): T {
    let result: T;
    try {
      result = fn();
    } catch (err) {
      this.health.recordFailure(operation, err);
      throw err;
    }
    this.health.recordSuccess();
    return result;
  }

  override saveAnomaly(a: Anomaly): void {
    this.write('saveAnomaly', () => super.saveAnomaly(a));
  }

  override saveDiagnosis(d: Diagnosis): void {
    this.write('saveDiagnosis', () => super.saveDiagnosis(d));
  }

  override appendEvent(e: NewEvent): number {
    return this.write('appendEvent', () => super.appendEvent(e));
  }

  override saveFeedback(anomalyId: string, verdict: FeedbackVerdict, note: string, nowMs?: number): void {
    this.write('saveFeedback', () => super.saveFeedback(anomalyId, verdict, note, nowMs));
  }
}
