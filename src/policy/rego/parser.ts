/**
 * Recursive-descent parser for Rego v1 and v0 modules, queries and terms. One method per
 * precedence level; keywords that v0 only knows through `future.keywords` imports are
 * enabled per module as the imports are read.
 */
import type { Body, CallTerm, ElseClause, Expr, ExprNode, Import, Location, Module, RefTerm, Rule, RuleHead, Term, WithModifier } from './ast.ts';
import { Lexer, type Token } from './lexer.ts';
import { RegoError } from './errors.ts';
import { attachAnnotations } from './compiler/annotations.ts';

export interface ParseOptions {
  regoVersion?: 'v0' | 'v1';
  /** Allows the experimental `and` / `or` keywords (when imported from future.keywords). */
  experimentalKeywords?: boolean;
}

const FUTURE_KEYWORDS = ['in', 'every', 'if', 'contains'];

const INFIX_NAMES: Record<string, string> = {
  '==': 'equal', '!=': 'neq', '<': 'lt', '<=': 'lte', '>': 'gt', '>=': 'gte',
  '+': 'plus', '-': 'minus', '*': 'mul', '/': 'div', '%': 'rem', '&': 'and', '|': 'or',
};

let wildcardCounter = 0;

export class Parser {
  private readonly toks: Token[];
  private pos = 0;
  private readonly file: string;
  private readonly version: 'v0' | 'v1';
  private readonly experimental: boolean;
  private readonly keywords = new Set<string>();
  readonly lexer: Lexer;

  constructor(src: string, file: string, options: ParseOptions = {}, origin?: Location) {
    this.lexer = new Lexer(src, file, origin);
    this.toks = this.lexer.tokens;
    this.file = file;
    this.version = options.regoVersion ?? 'v1';
    this.experimental = options.experimentalKeywords ?? false;
    if (this.version === 'v1') for (const k of FUTURE_KEYWORDS) this.keywords.add(k);
  }

  // ---- token helpers -------------------------------------------------------------------

  private get tok(): Token {
    return this.toks[this.pos];
  }

  private peek(offset = 1): Token {
    return this.toks[Math.min(this.pos + offset, this.toks.length - 1)];
  }

  private next(): Token {
    const t = this.toks[this.pos];
    if (t.type !== 'eof') this.pos++;
    return t;
  }

  private isPunct(p: string, t: Token = this.tok): boolean {
    return t.type === 'punct' && t.value === p;
  }

  /** The current token is the keyword-like identifier `name` (not the head of a ref like `if.x`). */
  isIdent(name: string, t: Token = this.tok): boolean {
    return t.type === 'ident' && t.value === name && !(t === this.tok && this.startsRef());
  }

  /** Keywords may name rules and ref elements: `with.foo`, `if.bar` are refs, not keywords. */
  private startsRef(): boolean {
    const n = this.peek();
    return n.type === 'punct' && n.value === '.' && !n.spaceBefore;
  }

  /** True for a keyword that is active in this module (future keywords depend on imports). */
  private isKeyword(name: string, t: Token = this.tok): boolean {
    if (t.type !== 'ident' || t.value !== name) return false;
    if (t === this.tok && this.startsRef()) return false;
    if (name === 'and' || name === 'or') return this.keywords.has(name);
    return FUTURE_KEYWORDS.includes(name) ? this.keywords.has(name) : true;
  }

  private fail(message: string, t: Token = this.tok): never {
    throw RegoError.single('rego_parse_error', message, t.loc);
  }

  private expectPunct(p: string): Token {
    if (!this.isPunct(p)) this.fail(`unexpected ${describe(this.tok)} token: expected ${p}`);
    return this.next();
  }

  private expectKeyword(name: string): Token {
    if (!this.isIdent(name)) this.fail(`unexpected ${describe(this.tok)} token: expected ${name}`);
    return this.next();
  }

  // ---- modules -------------------------------------------------------------------------

  parseModule(): Module {
    if (!this.isIdent('package')) this.fail('package expected');
    const pkgTok = this.next();
    const pkgRef = this.parseRefOnly();
    const packagePath = refPathStrings(pkgRef, 'package');
    const module: Module = {
      kind: 'module', file: this.file, packagePath, packageLoc: pkgTok.loc, imports: [], rules: [], annotations: [],
      regoVersion: this.version,
    };
    while (this.tok.type !== 'eof') {
      if (this.isIdent('import') && !this.isPunct('.', this.peek())) {
        module.imports.push(this.parseImport());
        continue;
      }
      for (const rule of this.parseRules()) {
        rule.module = module;
        module.rules.push(rule);
      }
      // Statements are separated by newlines: `p := 1 q := 2` is an error, as in OPA.
      if (!this.atEnd() && !this.tok.newlineBefore && !this.isPunct(';')) this.fail(`unexpected ${describe(this.tok)} token`);
    }
    if (this.keywords.has('not')) module.notBodies = true;
    attachAnnotations(module, this.lexer.comments);
    return module;
  }

  private parseImport(): Import {
    const loc = this.next().loc;
    const path = this.parseRefOnly();
    const head = path.head.kind === 'var' ? path.head.name : '';
    const names = refPathStrings(path, 'import');
    if (head === 'future') {
      if (names[1] !== 'keywords') this.fail('invalid import, must be `future.keywords`');
      const kw = names[2];
      // All of `future.keywords` includes `not`, as in OPA (since 1.17).
      if (kw === undefined) for (const k of [...FUTURE_KEYWORDS, 'not']) this.keywords.add(k);
      else if (kw === 'every') this.keywords.add('every').add('in');
      else if (FUTURE_KEYWORDS.includes(kw) || kw === 'not') this.keywords.add(kw);
      else if ((kw === 'and' || kw === 'or') && this.experimental) this.keywords.add(kw);
      else this.fail(`unexpected keyword, must be one of [contains every if in]`);
    } else if (head === 'rego') {
      if (names.join('.') !== 'rego.v1') this.fail('invalid import `' + names.join('.') + '`, must be `rego.v1`');
      for (const k of FUTURE_KEYWORDS) this.keywords.add(k);
    } else if (head !== 'data' && head !== 'input') {
      this.fail('invalid import, must begin with one of: {data, future, input, rego}');
    }
    let alias: string | undefined;
    if (this.isIdent('as')) {
      this.next();
      if (this.tok.type !== 'ident') this.fail('expected alias name');
      alias = this.next().value;
    }
    return { path, alias, loc };
  }

  /** Parses one rule statement; v0 chained bodies (`p { a } { b }`) yield several rules. */
  private parseRules(): Rule[] {
    const start = this.tok;
    const isDefault = this.isIdent('default') && !this.isPunct('.', this.peek());
    if (isDefault) this.next();
    if (this.tok.type !== 'ident') this.fail(`unexpected ${describe(this.tok)} token`);
    const head = this.parseRuleHead(isDefault);
    const rule: Rule = { kind: 'rule', default: isDefault, head, body: [], elses: [], loc: start.loc };
    if (isDefault) {
      if (!head.value) this.fail('default rule must have a value', start);
      return [rule];
    }
    const hasBody = this.parseRuleBody(rule, start);
    if (!hasBody) rule.body = [trueExpr(head.loc)];
    while (this.isIdent('else') && !this.isPunct('.', this.peek())) rule.elses.push(this.parseElse());
    const rules = [rule];
    // v0 allows `p { a } { b }`: each extra body is a separate rule with the same head.
    while (this.version === 'v0' && this.isPunct('{') && !this.tok.newlineBefore) {
      rules.push({ ...rule, body: this.parseBraceBody(), elses: [], loc: this.tok.loc });
    }
    return rules;
  }

  private parseRuleHead(isDefault: boolean): RuleHead {
    const nameTok = this.tok;
    const refTerm = this.parseRefOnly(true);
    const ref: Term[] = [refTerm.head, ...refTerm.path];
    const head: RuleHead = { ref, assign: false, loc: nameTok.loc };
    if (this.isPunct('(') && !this.tok.spaceBefore) {
      this.next();
      head.args = this.parseTermList(')');
      // `f() = 1` declares no parameters: OPA treats it as a constant rule named f.
      if (head.args.length === 0) head.args = undefined;
    }
    if (this.isKeyword('contains')) {
      this.next();
      head.key = this.parseTermExpr();
    } else if (this.isPunct(':=') || this.isPunct('=')) {
      head.assign = this.next().value === ':=';
      head.value = this.parseTermExpr();
    } else if (!isDefault && this.version === 'v0' && !head.args && ref.length === 2 && !this.keywords.has('if')) {
      // v0 `p[x] { … }` is a partial set rule.
      head.key = ref.pop();
    } else if (!isDefault && this.version === 'v0' && !head.args && ref.length === 2 && this.keywords.has('if') && !this.isKeyword('if')) {
      head.key = ref.pop();
    }
    return head;
  }

  /** Parses `if …` / `{ … }`; returns false when the rule has no body. */
  private parseRuleBody(rule: Rule, start: Token): boolean {
    if (this.isKeyword('if')) {
      this.next();
      rule.body = this.parseIfBody();
      return true;
    }
    if (this.isPunct('{') && !this.tok.newlineBefore) {
      if (this.version === 'v1') this.fail('`if` keyword is required before rule body', start);
      rule.body = this.parseBraceBody();
      return true;
    }
    if (this.version === 'v1' && rule.head.key === undefined && rule.head.value === undefined && !rule.head.args && rule.head.ref.length === 1) {
      // `p` alone is not a rule in v1 … except it is (`p` ≡ `p := true`) only with a body.
      this.fail('rule must have a value or body', start);
    }
    return false;
  }

  /**
   * The body after `if`: braces hold a body, unless they only parse as a single term
   * (`if {x: 1 | …}`, a comprehension used as the expression); otherwise one literal.
   */
  private parseIfBody(): Body {
    if (!this.isPunct('{') || !this.braceIsBody()) return [this.parseLiteral()];
    const save = this.pos;
    try {
      return this.parseBraceBody();
    } catch (bodyError) {
      this.pos = save;
      try {
        return [this.parseLiteral()];
      } catch {
        throw bodyError;
      }
    }
  }

  /** After `if`, `{` starts a body unless it is a set/object literal used as a single expression. */
  private braceIsBody(): boolean {
    const save = this.pos;
    try {
      this.parseTermExpr();
      // A literal like `{1} == x` continues with an operator; a body does not.
      const continues = this.tok.type === 'punct' && ['==', '!=', '=', ':=', '<', '>', '<=', '>=', '|', '&', '+', '-', '*', '/', '%'].includes(this.tok.value) && !this.tok.newlineBefore;
      return !continues;
    } catch {
      return true;
    } finally {
      this.pos = save;
    }
  }

  private parseElse(): ElseClause {
    const loc = this.next().loc;
    const clause: ElseClause = { body: [], loc };
    if (this.isPunct(':=') || this.isPunct('=')) {
      this.next();
      clause.value = this.parseTermExpr();
    }
    if (this.isKeyword('if')) {
      this.next();
      clause.body = this.parseIfBody();
    } else if (this.isPunct('{')) {
      clause.body = this.parseBraceBody();
    } else {
      clause.body = [trueExpr(loc)];
    }
    return clause;
  }

  // ---- bodies and literals ---------------------------------------------------------------

  parseBraceBody(): Body {
    this.expectPunct('{');
    const body = this.parseBodyUntil('}');
    this.expectPunct('}');
    return body;
  }

  /** Parses literals separated by `;` or newlines until the closing token (not consumed). */
  parseBodyUntil(close: string): Body {
    const body: Body = [];
    while (!this.atClose(close)) {
      if (this.tok.type === 'eof') this.fail(`unexpected eof token: expected ${close}`);
      body.push(this.parseLiteral());
      if (this.isPunct(';')) this.next();
      else if (!this.atClose(close) && !this.tok.newlineBefore) {
        this.fail(`unexpected ${describe(this.tok)} token`);
      }
    }
    if (body.length === 0) this.fail('found empty body');
    return body;
  }

  private atClose(close: string): boolean {
    return close === 'eof' ? this.tok.type === 'eof' : this.isPunct(close);
  }

  parseQuery(): Body {
    const body = this.parseBodyUntil('eof');
    return body;
  }

  parseLiteral(): Expr {
    if (this.keywords.has('and') || this.keywords.has('or')) {
      // Trailing `with` modifiers apply to the whole and/or expression.
      const expr = this.parseLogicOr();
      this.parseWiths(expr);
      return expr;
    }
    return this.parseSimpleLiteral();
  }

  private parseLogicOr(): Expr {
    let left = this.parseLogicAnd();
    while (this.isKeyword('or')) {
      const loc = this.next().loc;
      const right = this.parseLogicAnd();
      left = { kind: 'expr', negated: false, node: { type: 'logic', op: 'or', left, right }, with: [], loc };
    }
    return left;
  }

  private parseLogicAnd(): Expr {
    let left = this.parseLogicOperand();
    while (this.isKeyword('and')) {
      const loc = this.next().loc;
      const right = this.parseLogicOperand();
      left = { kind: 'expr', negated: false, node: { type: 'logic', op: 'and', left, right }, with: [], loc };
    }
    return left;
  }

  /** An operand of `and`/`or`: `{ body }`, `( … )`, `not …`, or a plain literal. */
  private parseLogicOperand(): Expr {
    const start = this.tok;
    if (this.isIdent('not')) {
      this.next();
      const inner = this.parseLogicOperand();
      return { kind: 'expr', negated: true, node: { type: 'group', body: [inner] }, with: [], loc: start.loc };
    }
    if (this.isPunct('{') || this.isPunct('(')) {
      const save = this.pos;
      try {
        const group = this.isPunct('{') ? this.parseGroupBody() : this.parseParenGroup();
        if (this.atLiteralEnd() || this.isKeyword('and') || this.isKeyword('or') || this.isIdent('with')) {
          this.parseWiths(group);
          return group;
        }
      } catch {
        // not a group: fall back to a plain literal
      }
      this.pos = save;
    }
    return this.parseSimpleLiteral(false);
  }

  private parseGroupBody(): Expr {
    const loc = this.tok.loc;
    const body = this.parseBraceBody();
    return bodyAsExpr(body, loc);
  }

  private parseParenGroup(): Expr {
    const loc = this.expectPunct('(').loc;
    const inner = this.parseLogicOr();
    this.parseWiths(inner);
    this.expectPunct(')');
    return bodyAsExpr([inner], loc);
  }

  private atLiteralEnd(): boolean {
    const t = this.tok;
    return t.type === 'eof' || t.newlineBefore || this.isPunct(';') || this.isPunct('}') || this.isPunct(')');
  }

  private parseSimpleLiteral(allowWith = true): Expr {
    const start = this.tok;
    let negated = false;
    const refHead = this.isPunct('.', this.peek()) && !this.peek().spaceBefore;
    if (this.isIdent('some') && !refHead) return this.parseSome();
    if (this.isKeyword('every') && !refHead) return this.parseEvery();
    if (this.isIdent('not') && !refHead) {
      this.next();
      negated = true;
      // `import future.keywords.not` allows negating a braced body: `not { a; b }`.
      if (this.keywords.has('not') && this.isPunct('{') && this.braceIsBody()) {
        const group = this.parseBraceBody();
        const expr: Expr = { kind: 'expr', negated: true, node: { type: 'group', body: group }, with: [], loc: start.loc };
        this.parseWiths(expr);
        return expr;
      }
    }
    const node = this.parseExprNode();
    const expr: Expr = { kind: 'expr', negated, node, with: [], loc: start.loc };
    if (allowWith) this.parseWiths(expr);
    return expr;
  }

  parseWiths(expr: Expr): void {
    while (this.isIdent('with')) {
      const loc = this.next().loc;
      const target = this.parseTermAtom();
      this.expectKeyword('as');
      const value = this.parseTermExpr();
      const w: WithModifier = { target, value, loc };
      expr.with.push(w);
    }
  }

  private parseExprNode(): ExprNode {
    const left = this.parseTermExpr();
    if (this.isPunct(',') && this.keywords.has('in')) {
      // `k, v in xs` membership with key and value.
      this.next();
      const value = this.parseTermRelation();
      const inTok = this.tok;
      if (!this.isKeyword('in')) this.fail('unexpected , token');
      this.next();
      const coll = this.parseTermRelation();
      let term: Term = call('internal.member_3', [left, value, coll], inTok.loc);
      while (this.isKeyword('in')) {
        const loc = this.next().loc;
        term = call('internal.member_2', [term, this.parseTermRelation()], loc);
      }
      return { type: 'term', term };
    }
    if (this.isPunct(':=')) {
      this.next();
      return { type: 'assign', left, right: this.parseMembershipRhs() };
    }
    if (this.isPunct('=')) {
      this.next();
      return { type: 'unify', left, right: this.parseMembershipRhs() };
    }
    return { type: 'term', term: left };
  }

  /** The right side of `:=`/`=`, which may be a `k, v in xs` membership test. */
  private parseMembershipRhs(): Term {
    const first = this.parseTermExpr();
    if (!(this.isPunct(',') && this.keywords.has('in'))) return first;
    this.next();
    const value = this.parseTermRelation();
    if (!this.isKeyword('in')) this.fail(`unexpected ${describe(this.tok)} token: expected in`);
    const loc = this.next().loc;
    let term: Term = call('internal.member_3', [first, value, this.parseTermRelation()], loc);
    while (this.isKeyword('in')) {
      const inLoc = this.next().loc;
      term = call('internal.member_2', [term, this.parseTermRelation()], inLoc);
    }
    return term;
  }

  private parseSome(): Expr {
    const loc = this.next().loc;
    const terms = [this.parseTermRelation()];
    while (this.isPunct(',')) {
      this.next();
      terms.push(this.parseTermRelation());
    }
    if (this.isKeyword('in')) {
      this.next();
      if (terms.length > 2) this.fail('unexpected , token');
      const collection = this.parseTermRelation();
      const node: ExprNode = terms.length === 2
        ? { type: 'somein', key: terms[0], value: terms[1], collection }
        : { type: 'somein', value: terms[0], collection };
      const expr: Expr = { kind: 'expr', negated: false, node, with: [], loc };
      this.parseWiths(expr);
      return expr;
    }
    for (const t of terms) if (t.kind !== 'var') this.fail('expected var', this.tok);
    return { kind: 'expr', negated: false, node: { type: 'some', vars: terms }, with: [], loc };
  }

  private parseEvery(): Expr {
    const loc = this.next().loc;
    const first = this.parseTermRelation();
    let key: Term | undefined;
    let value = first;
    if (this.isPunct(',')) {
      this.next();
      key = first;
      value = this.parseTermRelation();
    }
    if (!this.isKeyword('in')) this.fail('expected `in` after every');
    this.next();
    const domain = this.parseTermRelation();
    const body = this.parseBraceBody();
    const expr: Expr = { kind: 'expr', negated: false, node: { type: 'every', key, value, domain, body }, with: [], loc };
    this.parseWiths(expr);
    return expr;
  }

  // ---- terms, by precedence ----------------------------------------------------------------

  /** Full term expression: lowest precedence is `in`. */
  parseTermExpr(): Term {
    let left = this.parseTermRelation();
    while (this.isKeyword('in')) {
      const loc = this.next().loc;
      const right = this.parseTermRelation();
      left = call('internal.member_2', [left, right], loc);
    }
    return left;
  }

  private parseTermRelation(): Term {
    return this.parseBinary(['==', '!=', '<', '<=', '>', '>='], () => this.parseTermOr());
  }

  private parseTermOr(): Term {
    return this.parseBinary(['|'], () => this.parseTermAnd());
  }

  private parseTermAnd(): Term {
    return this.parseBinary(['&'], () => this.parseTermArith());
  }

  private parseTermArith(): Term {
    return this.parseBinary(['+', '-'], () => this.parseTermFactor());
  }

  private parseTermFactor(): Term {
    return this.parseBinary(['*', '/', '%'], () => this.parseTermUnary());
  }

  private parseBinary(ops: string[], operand: () => Term): Term {
    let left = operand();
    while (this.tok.type === 'punct' && ops.includes(this.tok.value) && !(this.tok.newlineBefore && this.tok.value === '-')) {
      const opTok = this.next();
      const right = operand();
      left = { ...call(INFIX_NAMES[opTok.value], [left, right], left.loc), infix: opTok.value };
    }
    return left;
  }

  private parseTermUnary(): Term {
    if (this.isPunct('-')) {
      const minus = this.next();
      const t = this.tok;
      if (t.type === 'number' && !t.spaceBefore) {
        this.next();
        return this.parsePostfix({ kind: 'number', text: '-' + t.value, loc: minus.loc });
      }
      const operand = this.parseTermUnary();
      return { ...call('minus', [{ kind: 'number', text: '0', loc: minus.loc }, operand], minus.loc), infix: '-' };
    }
    return this.parseTermAtom();
  }

  /** A primary term with its ref/call suffixes. */
  parseTermAtom(): Term {
    return this.parsePostfix(this.parsePrimary());
  }

  private parsePrimary(): Term {
    const t = this.tok;
    switch (t.type) {
      case 'number':
        this.next();
        return { kind: 'number', text: t.value, loc: t.loc };
      case 'string':
      case 'rawstring':
        this.next();
        return { kind: 'string', value: t.value, loc: t.loc };
      case 'template':
        this.next();
        return this.parseTemplate(t);
      case 'ident':
        return this.parseIdentTerm();
      case 'punct':
        if (t.value === '[') return this.parseArray();
        if (t.value === '{') return this.parseBrace();
        if (t.value === '(') {
          this.next();
          let inner = this.parseTermExpr();
          if (this.isPunct(',') && this.keywords.has('in')) {
            // `(k, v in xs)`: membership with key, grouped.
            this.next();
            const value = this.parseTermRelation();
            if (!this.isKeyword('in')) this.fail(`unexpected ${describe(this.tok)} token: expected in`);
            const loc = this.next().loc;
            inner = call('internal.member_3', [inner, value, this.parseTermRelation()], loc);
          }
          this.expectPunct(')');
          return inner;
        }
    }
    this.fail(`unexpected ${describe(t)} token`);
  }

  private parseIdentTerm(): Term {
    const t = this.next();
    if (this.isPunct('.') && !this.tok.spaceBefore) return { kind: 'var', name: t.value, loc: t.loc };
    switch (t.value) {
      case 'null':
        return { kind: 'null', loc: t.loc };
      case 'true':
        return { kind: 'boolean', value: true, loc: t.loc };
      case 'false':
        return { kind: 'boolean', value: false, loc: t.loc };
      case 'set':
        if (this.isPunct('(') && this.isPunct(')', this.peek())) {
          this.next();
          this.next();
          return { kind: 'set', items: [], loc: t.loc };
        }
        break;
    }
    const reserved = ['not', 'with', 'as', 'some', 'else', 'package', 'import', 'default'].includes(t.value)
      || (FUTURE_KEYWORDS.includes(t.value) && this.keywords.has(t.value) && !this.isPunct('('));
    if (reserved) this.fail(`unexpected ${t.value} keyword`, t);
    if (t.value === '_') return { kind: 'var', name: `$_${wildcardCounter++}`, loc: t.loc };
    return { kind: 'var', name: t.value, loc: t.loc };
  }

  private parsePostfix(primary: Term): Term {
    let term = primary;
    while (true) {
      const t = this.tok;
      if (this.isPunct('.') && !t.spaceBefore) {
        this.next();
        const name = this.tok;
        if (name.type !== 'ident' || name.spaceBefore) this.fail(`unexpected ${describe(name)} token: expected ident`);
        this.next();
        term = appendRef(term, { kind: 'string', value: name.value, loc: name.loc });
      } else if (this.isPunct('[') && !t.spaceBefore) {
        this.next();
        const key = this.parseTermExpr();
        this.expectPunct(']');
        term = appendRef(term, key);
      } else if (this.isPunct('(') && !t.spaceBefore && (term.kind === 'var' || term.kind === 'ref')) {
        const name = dottedName(term);
        if (name === undefined) this.fail('invalid call target', t);
        this.next();
        const args = this.parseTermList(')');
        term = { kind: 'call', name, operator: term, args, loc: primary.loc } satisfies CallTerm;
      } else {
        return term;
      }
    }
  }

  private parseTermList(close: string): Term[] {
    const items: Term[] = [];
    while (!this.isPunct(close)) {
      items.push(this.parseTermExpr());
      if (this.isPunct(',')) this.next();
      else if (!this.isPunct(close)) this.fail(`unexpected ${describe(this.tok)} token: expected ${close}`);
    }
    this.next();
    return items;
  }

  private parseArray(): Term {
    const loc = this.next().loc;
    if (this.isPunct(']')) {
      this.next();
      return { kind: 'array', items: [], loc };
    }
    const first = this.parseTermOrNoBar();
    if (this.isPunct('|')) {
      this.next();
      const body = this.parseBodyUntil(']');
      this.expectPunct(']');
      return { kind: 'arraycompr', term: first, body, loc };
    }
    const items = [first];
    while (this.isPunct(',')) {
      this.next();
      if (this.isPunct(']')) break;
      items.push(this.parseTermExpr());
    }
    this.expectPunct(']');
    return { kind: 'array', items, loc };
  }

  private parseBrace(): Term {
    const loc = this.next().loc;
    if (this.isPunct('}')) {
      this.next();
      return { kind: 'object', entries: [], loc };
    }
    const first = this.parseTermOrNoBar();
    if (this.isPunct(':')) {
      this.next();
      const value = this.parseTermOrNoBar();
      if (this.isPunct('|')) {
        this.next();
        const body = this.parseBodyUntil('}');
        this.expectPunct('}');
        return { kind: 'objectcompr', key: first, value, body, loc };
      }
      const entries: [Term, Term][] = [[first, value]];
      while (this.isPunct(',')) {
        this.next();
        if (this.isPunct('}')) break;
        const k = this.parseTermExpr();
        this.expectPunct(':');
        entries.push([k, this.parseTermExpr()]);
      }
      this.expectPunct('}');
      return { kind: 'object', entries, loc };
    }
    if (this.isPunct('|')) {
      this.next();
      const body = this.parseBodyUntil('}');
      this.expectPunct('}');
      return { kind: 'setcompr', term: first, body, loc };
    }
    const items = [first];
    while (this.isPunct(',')) {
      this.next();
      if (this.isPunct('}')) break;
      items.push(this.parseTermExpr());
    }
    this.expectPunct('}');
    return { kind: 'set', items, loc };
  }

  /**
   * Inside `{…}` the first term may be followed by `|` (comprehension), so `|` must not be
   * read as set union there. OPA resolves the same ambiguity the same way.
   */
  private parseTermOrNoBar(): Term {
    let left = this.parseBinary(['==', '!=', '<', '<=', '>', '>='], () => this.parseTermAnd());
    while (this.isKeyword('in')) {
      const loc = this.next().loc;
      left = call('internal.member_2', [left, this.parseTermRelation()], loc);
    }
    return left;
  }

  private parseTemplate(t: Token): Term {
    const parts: (string | Term)[] = [];
    let multi: boolean[] | undefined;
    for (const p of t.parts ?? []) {
      if ('text' in p) {
        parts.push(p.text);
        continue;
      }
      const sub = new Parser(p.source, this.file, { regoVersion: 'v1' }, p.loc);
      const term = sub.parseTermExpr();
      if (sub.isIdent('with')) {
        // `{x with input as y}`: collect the values of the modified expression in a
        // comprehension; the template reads them as the part's values.
        const name = `$tpl_${wildcardCounter++}`;
        const out: Term = { kind: 'var', name, loc: term.loc };
        const expr: Expr = { kind: 'expr', negated: false, node: { type: 'assign', left: out, right: term }, with: [], loc: term.loc };
        sub.parseWiths(expr);
        parts.push({ kind: 'arraycompr', term: out, body: [expr], loc: term.loc });
        (multi ??= new Array(t.parts!.length).fill(false))[parts.length - 1] = true;
      } else parts.push(term);
      if (sub.tok.type !== 'eof') sub.fail(`unexpected ${describe(sub.tok)} token in template expression`);
    }
    return multi ? { kind: 'template', parts, multi, loc: t.loc } : { kind: 'template', parts, loc: t.loc };
  }

  /** A ref made only of a var head, `.name` and `[term]` (packages, imports, rule heads). */
  private parseRefOnly(allowKeywordHead = false): RefTerm {
    const t = this.tok;
    if (t.type !== 'ident') this.fail(`unexpected ${describe(t)} token: expected ident`);
    if (!allowKeywordHead && ['not', 'with', 'else'].includes(t.value)) this.fail(`unexpected ${t.value} keyword`);
    this.next();
    let ref: RefTerm = { kind: 'ref', head: { kind: 'var', name: t.value, loc: t.loc }, path: [], loc: t.loc };
    while (true) {
      if (this.isPunct('.') && !this.tok.spaceBefore) {
        this.next();
        const name = this.tok;
        if (name.type !== 'ident') this.fail(`unexpected ${describe(name)} token: expected ident`);
        this.next();
        ref = { ...ref, path: [...ref.path, { kind: 'string', value: name.value, loc: name.loc }] };
      } else if (this.isPunct('[') && !this.tok.spaceBefore) {
        this.next();
        const key = this.parseTermExpr();
        this.expectPunct(']');
        ref = { ...ref, path: [...ref.path, key] };
      } else {
        return ref;
      }
    }
  }

  atEnd(): boolean {
    return this.tok.type === 'eof';
  }

  currentToken(): Token {
    return this.tok;
  }
}

// ---- helpers -------------------------------------------------------------------------------

function describe(t: Token): string {
  if (t.type === 'eof') return 'eof';
  if (t.type === 'ident') return 'ident';
  if (t.type === 'string' || t.type === 'rawstring') return 'string';
  if (t.type === 'number') return 'number';
  if (t.type === 'template') return 'template string';
  return t.value;
}

function call(name: string, args: Term[], loc: Location): CallTerm {
  const parts = name.split('.');
  const operator: Term = parts.length === 1
    ? { kind: 'var', name, loc }
    : { kind: 'ref', head: { kind: 'var', name: parts[0], loc }, path: parts.slice(1).map((p) => ({ kind: 'string', value: p, loc })), loc };
  return { kind: 'call', name, operator, args, loc };
}

function appendRef(term: Term, key: Term): Term {
  if (term.kind === 'ref') return { ...term, path: [...term.path, key] };
  return { kind: 'ref', head: term, path: [key], loc: term.loc };
}

function dottedName(term: Term): string | undefined {
  if (term.kind === 'var') return term.name;
  if (term.kind !== 'ref' || term.head.kind !== 'var') return undefined;
  let name = term.head.name;
  for (const p of term.path) {
    if (p.kind !== 'string') return undefined;
    name += '.' + p.value;
  }
  return name;
}

function refPathStrings(ref: RefTerm, what: string): string[] {
  const out = [ref.head.kind === 'var' ? ref.head.name : ''];
  for (const p of ref.path) {
    if (p.kind !== 'string') throw RegoError.single('rego_parse_error', `invalid ${what} path`, p.loc);
    out.push(p.value);
  }
  return out;
}

function trueExpr(loc: Location): Expr {
  return { kind: 'expr', negated: false, node: { type: 'term', term: { kind: 'boolean', value: true, loc } }, with: [], loc };
}

/** Wraps a group of literals as one expression that succeeds once if the group has a solution. */
function bodyAsExpr(body: Body, loc: Location): Expr {
  return { kind: 'expr', negated: false, node: { type: 'group', body }, with: [], loc };
}

// ---- entry points ---------------------------------------------------------------------------

export function parseModule(source: string, file: string, options: ParseOptions = {}): Module {
  const module = new Parser(source, file, options).parseModule();
  // The package keyword is stored without the leading `data` element.
  module.packagePath = module.packagePath[0] === 'data' ? module.packagePath.slice(1) : module.packagePath;
  return module;
}

export function parseQuery(source: string, file = 'query', options: ParseOptions = {}): Body {
  return new Parser(source, file, { regoVersion: options.regoVersion ?? 'v1', experimentalKeywords: options.experimentalKeywords }).parseQuery();
}

/** Parses a single term (e.g. an `input_term`), rejecting trailing tokens. */
export function parseTerm(source: string, file = 'term'): Term {
  const p = new Parser(source, file, { regoVersion: 'v1' });
  const term = p.parseTermExpr();
  if (!p.atEnd()) throw RegoError.single('rego_parse_error', 'unexpected token after term', p.currentToken().loc);
  return term;
}
