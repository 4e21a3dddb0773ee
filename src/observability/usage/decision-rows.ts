/**
 * A policy decision as telemetry rows: one per violated policy, or one with no policy when nothing
 * was violated (so "denied pushes by policy" is a GROUP BY policy). Pure.
 */
import type { DecisionRecord } from '../../policy/service/policy-store.ts';
import type { DecisionRow } from './usage-store.ts';

export function decisionRows(record: DecisionRecord): DecisionRow[] {
  const base = {
    id: record.id, time: record.time.getTime(), point: record.point, identity: record.requester, allowed: record.allowed,
    ...(record.repository === undefined ? {} : { repository: record.repository }),
    ...(record.digest === undefined ? {} : { digest: record.digest }),
  };
  const violations = record.result.violations;
  if (violations.length === 0) return [base];
  return violations.map((violation) => ({ ...base, policy: violation.policy, mode: violation.mode, message: violation.msg }));
}
