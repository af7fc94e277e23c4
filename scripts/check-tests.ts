// Guard run by `make test` before vitest: two patterns that let a test pass without checking.
//  - an empty `catch {}` / `catch (e) {}` (comments do not count) in a test file that uses
//    `expect`: a failed assertion inside the `try` is swallowed (vitest's expect throws);
//  - a fast-check call with `maxLength` above 10 and no `size`: fast-check's default size
//    caps generated lengths near 10, so the stated maximum is never reached.
// Usage: node scripts/check-tests.ts [file...]   (default: every .ts file under test/)
// Prints `file:line: problem` per finding and exits 1 when there is one.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import ts from 'typescript';

export interface Finding {
  file: string;
  line: number;
  problem: string;
}

const MAX_UNSIZED = 10;

/** The findings of one source text. */
export function checkSource(file: string, text: string): Finding[] {
  const sf = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
  const usesExpect = /\bexpect\s*[.(]/.test(text);
  const out: Finding[] = [];
  const at = (n: ts.Node): number => sf.getLineAndCharacterOfPosition(n.getStart(sf)).line + 1;
  const visit = (n: ts.Node): void => {
    if (usesExpect && ts.isCatchClause(n) && n.block.statements.length === 0) {
      out.push({ file, line: at(n), problem: 'empty catch block in a test that uses expect (a failed assertion would be swallowed)' });
    }
    if (ts.isCallExpression(n) && ts.isPropertyAccessExpression(n.expression) && ts.isIdentifier(n.expression.expression) && n.expression.expression.text === 'fc') {
      for (const arg of n.arguments) {
        if (!ts.isObjectLiteralExpression(arg)) continue;
        const names = new Map<string, ts.Expression>();
        for (const p of arg.properties) if (ts.isPropertyAssignment(p) && (ts.isIdentifier(p.name) || ts.isStringLiteral(p.name))) names.set(p.name.text, p.initializer);
        const max = names.get('maxLength');
        if (max === undefined || names.has('size')) continue;
        const v = numeric(max);
        const min = names.get('minLength');
        if (v !== undefined && min !== undefined && numeric(min) === v) continue; // a fixed length
        if (v === undefined || v > MAX_UNSIZED) {
          out.push({ file, line: at(arg), problem: `fc.${n.expression.name.text} with maxLength ${v ?? max.getText(sf)} and no size (fast-check's default size generates at most about ${MAX_UNSIZED})` });
        }
      }
    }
    ts.forEachChild(n, visit);
  };
  visit(sf);
  return out;
}

/** A numeric literal's value (`1_000`, `64 * 1024` too); undefined when not a constant. */
function numeric(e: ts.Expression): number | undefined {
  if (ts.isNumericLiteral(e)) return Number(e.text);
  if (ts.isParenthesizedExpression(e)) return numeric(e.expression);
  if (ts.isBinaryExpression(e)) {
    const a = numeric(e.left);
    const b = numeric(e.right);
    if (a === undefined || b === undefined) return undefined;
    if (e.operatorToken.kind === ts.SyntaxKind.AsteriskToken) return a * b;
    if (e.operatorToken.kind === ts.SyntaxKind.PlusToken) return a + b;
    if (e.operatorToken.kind === ts.SyntaxKind.MinusToken) return a - b;
  }
  return undefined;
}

function tsFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((d) => d.isFile() && d.name.endsWith('.ts'))
    .map((d) => join(d.parentPath, d.name))
    .sort();
}

if (import.meta.main) {
  const files = process.argv.length > 2 ? process.argv.slice(2) : tsFiles('test');
  const found = files.flatMap((f) => checkSource(f, readFileSync(f, 'utf8')));
  for (const f of found) console.error(`${f.file}:${f.line}: ${f.problem}`);
  if (found.length > 0) {
    console.error(`check-tests: ${found.length} problem(s) in ${new Set(found.map((f) => f.file)).size} file(s)`);
    process.exit(1);
  }
  console.log(`check-tests: ${files.length} files clean`);
}
