// Validates Kubernetes objects, built-in and third-party, with the validators the npm kubernetes-models family
// generates from the upstream OpenAPI schemas and CRDs (installed by scripts/fetch-k8s-models.sh), strictly:
// besides the schema's types, required fields, enums and formats, a field the schema does not declare is an error.
//
//   node scripts/validate-k8s-models.mjs OBJECTS.json [MODELS_DIR]
//     OBJECTS.json holds a JSON array of objects; prints a JSON array with, for each object, its list of errors
//     ("/spec/path: message"; empty when valid). Exit 0 when it ran, 2 on bad input or a missing model.
//   node scripts/validate-k8s-models.mjs --serve [MODELS_DIR]
//     One JSON object per stdin line, one JSON answer per stdout line:
//     {"known":false} when no model covers its apiVersion/kind, else
//     {"known":true,"errors":[{"field":"spec.template.spec.containers[0].image","keyword":"type","message":"..."}],
//      "unknown":["spec.x"]}. Exits when stdin closes. The Kubernetes API double (tests/Fim.Testing.KubeApi) runs it.
import { readFileSync, existsSync } from "node:fs";
import { join, dirname } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { createInterface } from "node:readline";

// API group -> npm package that ships its models (the core group is "").
const packages = {
  "monitoring.coreos.com": "@kubernetes-models/prometheus-operator",
  "keda.sh": "@kubernetes-models/keda",
  "eventing.keda.sh": "@kubernetes-models/keda",
};
const builtIn = "kubernetes-models";

const args = process.argv.slice(2);
const serve = args[0] === "--serve";
const [file, dir] = serve ? [null, args[1]] : args;
if (!serve && !file) {
  console.error("usage: validate-k8s-models.mjs OBJECTS.json [MODELS_DIR] | --serve [MODELS_DIR]");
  process.exit(2);
}
const modelsDir = dir ?? join(dirname(fileURLToPath(import.meta.url)), "..", ".cache", "k8s-models");

const modules = new Map();
async function modelsOf(group, version) {
  const key = `${group}/${version}`;
  if (!modules.has(key)) {
    const pkg = packages[group] ?? (group.includes(".") && !group.endsWith(".k8s.io") ? null : builtIn);
    const entry = pkg && join(modelsDir, "node_modules", pkg, group === "" ? "" : group, version, "index.js");
    modules.set(key, entry && existsSync(entry) ? await import(pathToFileURL(entry).href) : null);
  }
  return modules.get(key);
}

async function modelFor(o) {
  const apiVersion = String(o?.apiVersion ?? "");
  const slash = apiVersion.indexOf("/");
  const [group, version] = slash < 0 ? ["", apiVersion] : [apiVersion.slice(0, slash), apiVersion.slice(slash + 1)];
  if (!version || typeof o?.kind !== "string") return null;
  const models = await modelsOf(group, version);
  const Model = models?.[o.kind];
  return typeof Model === "function" && Model.kind === o.kind ? Model : null;
}

// The generated validators are compiled ajv code: they read every property their schema declares (even absent ones,
// `void 0!==data.x`) and enumerate the keys of maps (additionalProperties). Watching those reads through a Proxy
// tells which keys of each object the schema knows; a key never read, on an object whose other keys were read, is
// an unknown field. An object none of whose keys is ever read is free-form (preserve-unknown-fields, RawExtension).
function watch(value, path, seen) {
  if (value === null || typeof value !== "object") return value;
  const record = { path, value, read: new Set(), enumerated: false };
  seen.push(record);
  const children = Array.isArray(value)
    ? value.map((v, i) => watch(v, `${path}[${i}]`, seen))
    : Object.fromEntries(Object.entries(value).map(([k, v]) => [k, watch(v, path ? `${path}.${k}` : k, seen)]));
  return new Proxy(children, {
    get(target, prop, receiver) {
      if (typeof prop === "string") record.read.add(prop);
      return Reflect.get(target, prop, receiver);
    },
    has(target, prop) {
      if (typeof prop === "string") record.read.add(prop);
      return Reflect.has(target, prop);
    },
    ownKeys(target) {
      record.enumerated = true;
      return Reflect.ownKeys(target);
    },
    getOwnPropertyDescriptor(target, prop) {
      return Reflect.getOwnPropertyDescriptor(target, prop);
    },
  });
}

function unknownFields(seen) {
  const unknown = [];
  for (const r of seen) {
    if (Array.isArray(r.value) || r.enumerated) continue;
    const keys = Object.keys(r.value);
    if (!keys.some((k) => r.read.has(k)) && ![...r.read].some((k) => !(k in r.value))) continue; // free-form
    for (const k of keys) if (!r.read.has(k)) unknown.push(r.path ? `${r.path}.${k}` : k);
  }
  return unknown;
}

// "/spec/template/spec/containers/0/name" -> "spec.template.spec.containers[0].name", like field.Path.
function fieldPath(root, instancePath) {
  let path = "";
  let node = root;
  for (const raw of instancePath.split("/").slice(1)) {
    const seg = raw.replace(/~1/g, "/").replace(/~0/g, "~");
    path += Array.isArray(node) ? `[${seg}]` : path ? `.${seg}` : seg;
    node = node?.[seg];
  }
  return path;
}

function describe(e) {
  const p = e.params ?? {};
  switch (e.keyword) {
    case "required": return { keyword: "required", field: p.missingProperty, message: "Required value" };
    case "enum": return { keyword: "enum", message: `supported values: ${(p.allowedValues ?? []).map((v) => JSON.stringify(v)).join(", ")}` };
    case "type": return { keyword: "type", message: `must be of type ${p.type}` };
    case "format": return { keyword: "format", message: `must be a valid ${p.format}` };
    default: return { keyword: e.keyword, message: e.message ?? e.keyword };
  }
}

async function check(o) {
  const Model = await modelFor(o);
  if (!Model) return { known: false };
  const seen = [];
  const watched = watch(o, "", seen);
  const errors = [];
  try {
    Model.prototype.validate.call(watched);
  } catch (e) {
    if (!Array.isArray(e.errors)) throw e;
    for (const x of e.errors) {
      if (x.keyword === "oneOf" || x.keyword === "anyOf") continue; // the branches' own errors say more
      const d = describe(x);
      let field = fieldPath(o, x.instancePath ?? "");
      if (d.keyword === "required" && d.field) field = field ? `${field}.${d.field}` : d.field;
      errors.push({ field: field || "<root>", keyword: d.keyword, message: d.message });
    }
  }
  // Status and server-set metadata are not the client's to get wrong; only spec-side unknown fields count.
  // The generator drops every property named `description` (it takes it for the JSON-schema annotation) and the
  // x-kubernetes-* extensions of JSONSchemaProps (CRDs) from the compiled schemas; their types declare both.
  const unknown = unknownFields(seen).filter((f) => !f.startsWith("status.") && !/(^|\.)(description|x-kubernetes-[a-z-]+)$/.test(f));
  return { known: true, errors, unknown };
}

if (serve) {
  const rl = createInterface({ input: process.stdin, crlfDelay: Infinity });
  for await (const line of rl) {
    if (!line.trim()) continue;
    let answer;
    try {
      answer = await check(JSON.parse(line));
    } catch (e) {
      answer = { known: false, failure: String(e?.message ?? e) };
    }
    process.stdout.write(JSON.stringify(answer) + "\n");
  }
  process.exit(0);
}

const objects = JSON.parse(readFileSync(file, "utf8"));
const results = [];
for (const o of objects) {
  const r = await check(o);
  if (!r.known) {
    console.error(`validate-k8s-models: no model for ${o?.apiVersion} ${o?.kind} under ${modelsDir}`);
    process.exit(2);
  }
  results.push([
    ...r.errors.map((x) => `${x.field}: ${x.message}`),
    ...r.unknown.map((f) => `${f}: unknown field`),
  ]);
}
console.log(JSON.stringify(results));
