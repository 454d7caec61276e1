// Renders a synthesized stack (its cdk.tf.json) as HCL native syntax, the same configuration written
// the way a reviewer reads Terraform, formatted as `terraform fmt` formats it. cdktf 0.21's own HCL
// output cannot be used: it drops ephemeral blocks and the raw `required_version`, and crashes on a
// variable whose default is null. A test proves the round trip (HCL back to JSON with hcl2json equals
// cdk.tf.json) and runs `terraform fmt -check` and `terraform validate` on the result.
//
// Terraform's JSON syntax cannot tell a nested block from an object attribute; the provider schema
// can, and cdktf's generated resource classes carry it: blockSchemaOf reads it from each element's
// toHclTerraform() (its `isBlock` flags), so nothing here guesses.

import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { format } from "@cdktf/hcl-tools";
import { TerraformElement, TerraformStack } from "cdktf";

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

/** "resource aws_db_instance timeouts", "provider aws default_tags", … : where a key names a nested block. */
export type BlockSchema = ReadonlySet<string>;

/** The nested blocks of every resource, data source and provider in the stack, from cdktf's provider classes. */
export function blockSchemaOf(stack: TerraformStack): BlockSchema {
  const blocks = new Set<string>();
  const elements = stack.node.findAll().filter((c): c is TerraformElement => c instanceof TerraformElement);
  for (const element of elements) {
    const fragment = (element as unknown as { toHclTerraform(): unknown }).toHclTerraform() as Record<string, unknown>;
    for (const kind of ["resource", "data"] as const) {
      for (const [type, byName] of Object.entries((fragment[kind] ?? {}) as Record<string, Record<string, unknown>>)) {
        for (const body of Object.values(byName)) collectBlocks(`${kind} ${type}`, body, [], blocks);
      }
    }
    for (const [type, bodies] of Object.entries((fragment.provider ?? {}) as Record<string, unknown[]>)) {
      for (const body of bodies) collectBlocks(`provider ${type}`, body, [], blocks);
    }
  }
  return blocks;
}

function collectBlocks(owner: string, body: unknown, path: string[], into: Set<string>): void {
  if (!isPlainObject(body)) return;
  for (const [name, attribute] of Object.entries(body)) {
    // Providers' fragments pass through cdktf's snake-casing: `is_block` there, `isBlock` elsewhere.
    if (!isPlainObject(attribute) || (attribute.isBlock !== true && attribute.is_block !== true)) continue;
    into.add(`${owner} ${[...path, name].join(".")}`);
    const items = Array.isArray(attribute.value) ? attribute.value : [attribute.value];
    for (const item of items) collectBlocks(owner, item, [...path, name], into);
  }
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value) && Object.getPrototypeOf(value) === Object.prototype;
}

/** The order a reader expects: settings, inputs, what is read, what is managed, what comes out. */
const TOP_LEVEL_ORDER = ["terraform", "provider", "variable", "locals", "data", "ephemeral", "resource", "output"];

/** The stack's Terraform JSON as formatted HCL. Throws on a construct it does not know, rather than dropping it. */
export async function renderHcl(json: JsonObject, blocks: BlockSchema): Promise<string> {
  const unknown = Object.keys(json).filter((key) => key !== "//" && !TOP_LEVEL_ORDER.includes(key));
  if (unknown.length > 0) throw new Error(`HCL rendering does not support the top-level ${unknown.map((k) => `"${k}"`).join(", ")} of this stack`);
  const out: string[] = [];
  for (const key of TOP_LEVEL_ORDER) {
    const section = json[key];
    if (section === undefined) continue;
    if (key === "terraform") out.push(renderTerraformBlock(section as JsonObject));
    else if (key === "locals") out.push(`locals {\n${renderAttributes(section as JsonObject)}\n}`);
    else if (key === "provider") {
      for (const [type, bodies] of Object.entries(section as JsonObject)) {
        for (const body of bodies as JsonObject[]) out.push(`provider ${quote(type)} {\n${renderBody(body, `provider ${type}`, [], blocks)}\n}`);
      }
    } else if (key === "variable") {
      for (const [name, body] of Object.entries(section as JsonObject))
        out.push(`variable ${quote(name)} {\n${renderVariable(body as JsonObject)}\n}`);
    } else if (key === "output") {
      for (const [name, body] of Object.entries(section as JsonObject)) out.push(`output ${quote(name)} {\n${renderOutput(body as JsonObject)}\n}`);
    } else {
      // data, ephemeral, resource: two labels, a body with meta-arguments.
      for (const [type, byName] of Object.entries(section as JsonObject)) {
        for (const [name, body] of Object.entries(byName as JsonObject)) {
          out.push(`${key} ${quote(type)} ${quote(name)} {\n${renderBody(body as JsonObject, `${key} ${type}`, [], blocks)}\n}`);
        }
      }
    }
  }
  return format(`${out.join("\n\n")}\n`);
}

function renderTerraformBlock(body: JsonObject): string {
  const lines: string[] = [];
  for (const [key, value] of Object.entries(body)) {
    if (key === "required_providers") lines.push(`required_providers {\n${renderRequiredProviders(value as JsonObject)}\n}`);
    else if (key === "backend") {
      // Terraform reads backend settings without evaluating them: literal values.
      for (const [type, settings] of Object.entries(value as JsonObject)) {
        const attributes = Object.entries(settings as JsonObject).map(([name, setting]) => `${name} = ${renderLiteral(setting)}`);
        lines.push(`backend ${quote(type)} {\n${attributes.join("\n")}\n}`);
      }
    } else if (key === "required_version") lines.push(`${key} = ${renderLiteral(value)}`);
    else throw new Error(`HCL rendering does not support terraform.${key}`);
  }
  return `terraform {\n${lines.join("\n")}\n}`;
}

/** Each provider's source and version (literal strings), and its configuration aliases (references). */
function renderRequiredProviders(body: JsonObject): string {
  return Object.entries(body)
    .map(([name, requirement]) => {
      const settings = Object.entries(requirement as JsonObject).map(([key, value]) =>
        key === "configuration_aliases" ? `${key} = ${renderReferences(value)}` : `${key} = ${renderLiteral(value)}`,
      );
      return `${name} = {\n${settings.join("\n")}\n}`;
    })
    .join("\n");
}

function renderVariable(body: JsonObject): string {
  const lines: string[] = [];
  for (const [key, value] of Object.entries(body)) {
    if (key === "//") continue;
    if (key === "type")
      lines.push(`type = ${value as string}`); // a type expression, not a string
    else if (key === "validation") for (const rule of value as JsonObject[]) lines.push(`validation {\n${renderAttributes(rule)}\n}`);
    // A default and a description are literal values: a "${" in them is text, not an interpolation.
    else if (key === "default" || key === "description") lines.push(`${key} = ${renderLiteral(value)}`);
    else lines.push(`${key} = ${renderValue(value)}`);
  }
  return lines.join("\n");
}

function renderOutput(body: JsonObject): string {
  const lines: string[] = [];
  for (const [key, value] of Object.entries(body)) {
    if (key === "//") continue;
    if (key === "depends_on") lines.push(`${key} = ${renderReferences(value)}`);
    else if (key === "description") lines.push(`${key} = ${renderLiteral(value)}`);
    else if (key === "precondition") throw new Error("HCL rendering does not support output preconditions");
    else lines.push(`${key} = ${renderValue(value)}`);
  }
  return lines.join("\n");
}

/** A resource's, data source's or provider's body: meta-arguments, nested blocks by the schema, attributes. */
function renderBody(body: JsonObject, owner: string, path: string[], blocks: BlockSchema): string {
  const lines: string[] = [];
  for (const [key, value] of Object.entries(body)) {
    if (key === "//") continue; // cdktf's construct metadata: JSON comments, nothing Terraform reads
    if (key === "dynamic") throw new Error(`HCL rendering does not support dynamic blocks (${owner})`);
    if (path.length === 0 && (key === "provider" || key === "provisioner" || key === "connection" || key === "lifecycle" || key === "depends_on")) {
      if (key === "provider")
        lines.push(`provider = ${value as string}`); // a provider reference, e.g. postgresql.admin
      else if (key === "depends_on") lines.push(`depends_on = ${renderReferences(value)}`);
      else if (key === "lifecycle") lines.push(`lifecycle {\n${renderLifecycle(value as JsonObject)}\n}`);
      else throw new Error(`HCL rendering does not support ${key} blocks (${owner})`);
    } else if (blocks.has(`${owner} ${[...path, key].join(".")}`)) {
      const items = Array.isArray(value) ? value : [value];
      for (const item of items) lines.push(`${key} {\n${renderBody(item as JsonObject, owner, [...path, key], blocks)}\n}`);
    } else {
      lines.push(`${key} = ${renderValue(value)}`);
    }
  }
  return lines.join("\n");
}

function renderLifecycle(body: JsonObject): string {
  return Object.entries(body)
    .map(([key, value]) => {
      if (key === "ignore_changes") return `${key} = ${value === "all" ? "all" : renderReferences(value)}`;
      if (key === "replace_triggered_by") return `${key} = ${renderReferences(value)}`;
      if (key === "precondition" || key === "postcondition") throw new Error(`HCL rendering does not support lifecycle ${key}`);
      return `${key} = ${renderValue(value)}`;
    })
    .join("\n");
}

function renderAttributes(body: JsonObject): string {
  return Object.entries(body)
    .filter(([key]) => key !== "//")
    .map(([key, value]) => `${key} = ${renderValue(value)}`)
    .join("\n");
}

/** depends_on, ignore_changes, replace_triggered_by: references, written bare (JSON writes them as strings). */
function renderReferences(value: Json): string {
  return `[${(value as string[]).map((reference) => reference.replace(/^\$\{(.*)\}$/s, "$1")).join(", ")}]`;
}

function renderValue(value: Json): string {
  if (value === null) return "null";
  if (typeof value === "boolean" || typeof value === "number") return JSON.stringify(value);
  if (typeof value === "string") return renderTemplate(value);
  if (Array.isArray(value)) return value.length === 0 ? "[]" : `[\n${value.map((item) => `${renderValue(item)},`).join("\n")}\n]`;
  const entries = Object.entries(value);
  return entries.length === 0 ? "{}" : `{\n${entries.map(([key, item]) => `${objectKey(key)} = ${renderValue(item)}`).join("\n")}\n}`;
}

/**
 * An object key: bare when it is an identifier HCL reads as that literal key, otherwise a quoted
 * template (in the JSON syntax an expression's object key is a template too).
 */
function objectKey(key: string): string {
  if (/^[A-Za-z_][A-Za-z0-9_-]*$/.test(key) && !["true", "false", "null", "for", "if", "in"].includes(key)) return key;
  return quotedTemplate(templateParts(key));
}

/** A value Terraform reads literally (a variable default, a description, a backend setting): no template sequence in it is one. */
function renderLiteral(value: Json): string {
  if (typeof value === "string") return quote(escapeTemplateSequences(value));
  if (Array.isArray(value)) return value.length === 0 ? "[]" : `[\n${value.map((item) => `${renderLiteral(item)},`).join("\n")}\n]`;
  if (value !== null && typeof value === "object") {
    const entries = Object.entries(value);
    const key = (name: string) => (name.includes("${") || name.includes("%{") ? quote(escapeTemplateSequences(name)) : objectKey(name));
    return entries.length === 0 ? "{}" : `{\n${entries.map(([name, item]) => `${key(name)} = ${renderLiteral(item)}`).join("\n")}\n}`;
  }
  return renderValue(value);
}

/** "${" and "%{" as text: "$${" and "%%{" in a quoted template. */
function escapeTemplateSequences(text: string): string {
  return text.replace(/([$%])\{/g, (_match, sigil: string) => `${sigil}${sigil}{`);
}

/**
 * A JSON-syntax string is a template, like an HCL quoted string: one that is a single interpolation
 * becomes the bare expression; any other keeps its interpolations and directives as written, and
 * only its literal text is escaped for a quoted string.
 */
function renderTemplate(text: string): string {
  const parts = templateParts(text);
  const [only] = parts;
  if (parts.length === 1 && only?.kind === "interpolation" && only.text.startsWith("${")) {
    // Strip markers ("${~ x ~}") trim only surrounding literal text, of which there is none.
    const expression = only.text.slice(2, -1).replace(/^~/, "").replace(/~$/, "").trim();
    // An attribute's expression ends at a newline unless it is in parentheses.
    return expression.includes("\n") ? `(${expression})` : expression;
  }
  return quotedTemplate(parts);
}

function quotedTemplate(parts: ReturnType<typeof templateParts>): string {
  return `"${parts.map((part) => (part.kind === "literal" ? escapeLiteral(part.text) : part.text)).join("")}"`;
}

function templateParts(text: string): Array<{ kind: "literal" | "interpolation"; text: string }> {
  const parts: Array<{ kind: "literal" | "interpolation"; text: string }> = [];
  let literal = "";
  for (let i = 0; i < text.length;) {
    if (text.startsWith("$${", i) || text.startsWith("%%{", i)) {
      // Escaped sequences stay escaped: the same text in HCL.
      literal += text.slice(i, i + 3);
      i += 3;
    } else if (text.startsWith("${", i) || text.startsWith("%{", i)) {
      const end = closingBrace(text, i + 2);
      if (literal) parts.push({ kind: "literal", text: literal });
      literal = "";
      parts.push({ kind: "interpolation", text: text.slice(i, end + 1) });
      i = end + 1;
    } else {
      literal += text[i];
      i += 1;
    }
  }
  if (literal || parts.length === 0) parts.push({ kind: "literal", text: literal });
  return parts;
}

/** Index of the "}" closing an interpolation whose body starts at `start`; skips strings and nested templates. */
function closingBrace(text: string, start: number): number {
  let depth = 1;
  for (let i = start; i < text.length; i++) {
    const char = text[i];
    if (char === '"') {
      for (i++; i < text.length && text[i] !== '"'; i++) {
        if (text[i] === "\\") i++;
        else if (text.startsWith("$${", i) || text.startsWith("%%{", i)) i += 2;
        else if (text.startsWith("${", i) || text.startsWith("%{", i)) i = closingBrace(text, i + 2);
      }
    } else if (char === "{") depth++;
    else if (char === "}" && --depth === 0) return i;
  }
  throw new Error(`unbalanced interpolation in ${JSON.stringify(text.slice(0, 80))}`);
}

function escapeLiteral(text: string): string {
  // eslint-disable-next-line no-control-regex -- control characters are exactly what a quoted string must escape
  return text.replace(/[\\"\u0000-\u001f]/g, (char) => {
    if (char === "\\") return "\\\\";
    if (char === '"') return '\\"';
    if (char === "\n") return "\\n";
    if (char === "\r") return "\\r";
    if (char === "\t") return "\\t";
    return `\\u${char.charCodeAt(0).toString(16).padStart(4, "0")}`;
  });
}

function quote(text: string): string {
  return `"${escapeLiteral(text)}"`;
}

/**
 * After app.synth(): replaces each stack's cdk.tf.json with cdk.tf, the same configuration in HCL
 * (both in one folder would declare everything twice). Every stack is rendered before any file is
 * written, so a failure leaves the JSON synthesis as it was. Returns the files written.
 */
export async function writeStacksAsHcl(outdir: string, stacks: readonly TerraformStack[]): Promise<string[]> {
  const rendered: Array<{ folder: string; hcl: string }> = [];
  for (const stack of stacks) {
    const folder = join(outdir, "stacks", stack.node.id);
    const json = JSON.parse(readFileSync(join(folder, "cdk.tf.json"), "utf8")) as JsonObject;
    rendered.push({ folder, hcl: await renderHcl(json, blockSchemaOf(stack)) });
  }
  for (const { folder, hcl } of rendered) {
    writeFileSync(join(folder, "cdk.tf"), hcl);
    rmSync(join(folder, "cdk.tf.json"));
  }
  return rendered.map(({ folder }) => join(folder, "cdk.tf"));
}

/** After a JSON synthesis: removes the cdk.tf an earlier synth:hcl left, which would declare everything twice. */
export function removeHclStacks(outdir: string, stacks: readonly TerraformStack[]): void {
  for (const stack of stacks) rmSync(join(outdir, "stacks", stack.node.id, "cdk.tf"), { force: true });
}
