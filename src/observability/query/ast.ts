/** The parsed query: a chain of pipe steps, each with the position it starts at (for errors). */
import type { Position } from './query-error.ts';

export type IntervalUnit = 'SECOND' | 'MINUTE' | 'HOUR' | 'DAY' | 'WEEK';

export type Expr =
  | { readonly kind: 'literal'; readonly value: string | number | boolean | null; readonly position: Position }
  | { readonly kind: 'timestamp'; readonly text: string; readonly position: Position }
  | { readonly kind: 'interval'; readonly amount: number; readonly unit: IntervalUnit; readonly position: Position }
  | { readonly kind: 'column'; readonly qualifier?: string; readonly name: string; readonly position: Position }
  | { readonly kind: 'star'; readonly position: Position }
  | { readonly kind: 'unary'; readonly op: '-' | 'NOT'; readonly operand: Expr; readonly position: Position }
  | { readonly kind: 'binary'; readonly op: BinaryOp; readonly left: Expr; readonly right: Expr; readonly position: Position }
  | { readonly kind: 'call'; readonly name: string; readonly args: readonly Expr[]; readonly distinct: boolean; readonly position: Position }
  | { readonly kind: 'in'; readonly operand: Expr; readonly list: readonly Expr[]; readonly negated: boolean; readonly position: Position }
  | { readonly kind: 'between'; readonly operand: Expr; readonly low: Expr; readonly high: Expr; readonly negated: boolean; readonly position: Position }
  | { readonly kind: 'like'; readonly operand: Expr; readonly pattern: Expr; readonly negated: boolean; readonly position: Position }
  | { readonly kind: 'is-null'; readonly operand: Expr; readonly negated: boolean; readonly position: Position }
  | { readonly kind: 'case'; readonly operand?: Expr; readonly whens: readonly { readonly when: Expr; readonly then: Expr }[]; readonly otherwise?: Expr; readonly position: Position };

export type BinaryOp = 'OR' | 'AND' | '=' | '!=' | '<' | '<=' | '>' | '>=' | '+' | '-' | '*' | '/' | '%' | '||';

export interface Named {
  readonly name: string;
  readonly position: Position;
}

export interface SelectItem {
  readonly expr: Expr;
  readonly alias?: Named;
}

export interface OrderKey {
  readonly expr: Expr;
  readonly descending: boolean;
}

export type Source =
  | { readonly kind: 'table'; readonly name: Named; readonly alias?: Named }
  | { readonly kind: 'subquery'; readonly query: Query; readonly alias?: Named; readonly position: Position };

export type Step =
  | { readonly kind: 'from'; readonly source: Source; readonly position: Position }
  | { readonly kind: 'where'; readonly condition: Expr; readonly position: Position }
  | { readonly kind: 'select'; readonly distinct: boolean; readonly items: readonly SelectItem[]; readonly position: Position }
  | { readonly kind: 'extend'; readonly items: readonly SelectItem[]; readonly position: Position }
  | { readonly kind: 'set'; readonly assignments: readonly { readonly column: Named; readonly expr: Expr }[]; readonly position: Position }
  | { readonly kind: 'drop'; readonly columns: readonly Named[]; readonly position: Position }
  | { readonly kind: 'rename'; readonly pairs: readonly { readonly from: Named; readonly to: Named }[]; readonly position: Position }
  | { readonly kind: 'aggregate'; readonly items: readonly SelectItem[]; readonly groupBy: readonly SelectItem[]; readonly orderGroups: boolean; readonly position: Position }
  | { readonly kind: 'order-by'; readonly keys: readonly OrderKey[]; readonly position: Position }
  | { readonly kind: 'limit'; readonly count: number; readonly offset: number; readonly position: Position }
  | { readonly kind: 'join'; readonly type: 'inner' | 'left'; readonly source: Source; readonly using?: readonly Named[]; readonly on?: Expr; readonly position: Position }
  | { readonly kind: 'as'; readonly alias: Named; readonly position: Position }
  /** The SELECT … GROUP BY … HAVING … ORDER BY … LIMIT of a plain SELECT, after its FROM, joins and WHERE. */
  | {
    readonly kind: 'select-block';
    readonly distinct: boolean;
    readonly items: readonly SelectItem[];
    readonly groupBy: readonly Expr[];
    readonly having?: Expr;
    readonly orderBy: readonly OrderKey[];
    readonly limit?: { readonly count: number; readonly offset: number };
    readonly position: Position;
  };

export interface Query {
  readonly steps: readonly Step[];
}
