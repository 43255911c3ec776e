// Checks Kubernetes manifests offline against the API's own schemas, as a
// cluster's API server would refuse them, with no cluster:
//  1. each YAML document parses (duplicate keys are errors);
//  2. kubernetes-models validates it against the JSON schema generated from
//     the Kubernetes OpenAPI spec (types, required fields, enums, formats);
//  3. the TypeScript compiler checks it as a literal of the same package's
//     generated interface: this catches unknown fields (a typo such as
//     `terminationGracePeriodSecond` that the JSON schema lets through and
//     a server would drop or reject).
// Usage: node check-manifest.mjs FILE...   Prints "ok: FILE (N documents)"
// for each, or each problem, and exits 1 on any.
import { readFileSync, mkdtempSync, writeFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseAllDocuments } from "yaml";
import ts from "typescript";

const here = dirname(fileURLToPath(import.meta.url));

// "apps/v1" -> "apps/v1"; "v1" (the core group) -> "v1"
const modulePath = (apiVersion) => `kubernetes-models/${apiVersion}`;

async function schemaCheck(doc, where) {
    const mod = await import(modulePath(doc.apiVersion)).catch(() => null);
    const Model = mod && mod[doc.kind];
    if (!Model) return [`${where}: no schema for ${doc.apiVersion} ${doc.kind}`];
    try {
        new Model(doc).validate();
        return [];
    } catch (e) {
        return [`${where}: ${e.message}`];
    }
}

// One .ts file per manifest: each document a typed constant.
function typeCheck(docs, file) {
    const dir = mkdtempSync(join(tmpdir(), "manifest-check-"));
    const lines = [];
    docs.forEach((doc, i) => {
        const type = `import("${modulePath(doc.apiVersion)}/${doc.kind}").I${doc.kind}`;
        lines.push(`export const document${i + 1}: ${type} = ${JSON.stringify(doc, null, 2)};`);
    });
    const source = join(dir, "manifest.ts");
    writeFileSync(source, lines.join("\n") + "\n");
    const program = ts.createProgram([source], {
        noEmit: true,
        skipLibCheck: true, // the packages' own declarations are not what is checked
        lib: ["lib.es2020.d.ts"],
        strict: true,
        module: ts.ModuleKind.NodeNext,
        moduleResolution: ts.ModuleResolutionKind.NodeNext,
        typeRoots: [],
        types: [],
        baseUrl: here,
        paths: { "*": [join(here, "node_modules", "*")] },
    });
    const problems = ts.getPreEmitDiagnostics(program).map((d) => {
        const text = ts.flattenDiagnosticMessageText(d.messageText, "\n");
        if (!d.file) return `${file}: ${text}`;
        const { line } = d.file.getLineAndCharacterOfPosition(d.start);
        const doc = d.file.text.slice(0, d.start).split("export const document").length - 1;
        return `${file}: document ${doc}: ${text} (at: ${d.file.text.split("\n")[line].trim()})`;
    });
    rmSync(dir, { recursive: true, force: true });
    return problems;
}

let failed = false;
for (const file of process.argv.slice(2)) {
    const parsed = parseAllDocuments(readFileSync(file, "utf8"), { uniqueKeys: true });
    const problems = [];
    const docs = [];
    parsed.forEach((d, i) => {
        for (const e of d.errors) problems.push(`${file}: document ${i + 1}: ${e.message}`);
        const doc = d.toJS();
        if (doc !== null && doc !== undefined) docs.push(doc);
    });
    if (docs.length === 0) problems.push(`${file}: no documents`);
    for (const [i, doc] of docs.entries()) {
        if (!doc.apiVersion || !doc.kind) problems.push(`${file}: document ${i + 1}: no apiVersion or kind`);
        else problems.push(...(await schemaCheck(doc, `${file}: document ${i + 1} (${doc.kind})`)));
    }
    if (problems.length === 0) problems.push(...typeCheck(docs, file));
    for (const p of problems) console.log(p);
    if (problems.length) failed = true;
    else console.log(`ok: ${file} (${docs.length} documents)`);
}
process.exit(failed ? 1 : 0);
