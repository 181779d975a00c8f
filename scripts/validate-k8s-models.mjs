// Validates third-party custom resources with the validators the @kubernetes-models packages generate from
// the upstream API types (installed by scripts/fetch-k8s-models.sh).
//   node scripts/validate-k8s-models.mjs OBJECTS.json [MODELS_DIR]
// OBJECTS.json holds a JSON array of objects; prints a JSON array with, for each object, its list of errors
// ("/spec/path: message"; empty when valid). Exit 0 when it ran, 2 on bad input or a missing package.
import { readFileSync, existsSync } from "node:fs";
import { join, dirname } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

// API group -> npm package that ships its models. Only groups the chart renders are listed.
const packages = { "monitoring.coreos.com": "@kubernetes-models/prometheus-operator" };

const [file, dir] = process.argv.slice(2);
if (!file) {
  console.error("usage: validate-k8s-models.mjs OBJECTS.json [MODELS_DIR]");
  process.exit(2);
}
const modelsDir = dir ?? join(dirname(fileURLToPath(import.meta.url)), "..", ".cache", "k8s-models");

const modules = new Map();
async function modelsOf(group, version) {
  const key = `${group}/${version}`;
  if (!modules.has(key)) {
    const pkg = packages[group];
    const entry = pkg && join(modelsDir, "node_modules", pkg, group, version, "index.js");
    modules.set(key, entry && existsSync(entry) ? await import(pathToFileURL(entry).href) : null);
  }
  return modules.get(key);
}

const objects = JSON.parse(readFileSync(file, "utf8"));
const results = [];
for (const o of objects) {
  const [group, version] = String(o.apiVersion ?? "").split("/");
  const models = version ? await modelsOf(group, version) : null;
  const Model = models?.[o.kind];
  if (!Model) {
    console.error(`validate-k8s-models: no model for ${o.apiVersion} ${o.kind} under ${modelsDir}`);
    process.exit(2);
  }
  try {
    new Model(o).validate();
    results.push([]);
  } catch (e) {
    if (!Array.isArray(e.errors)) throw e;
    results.push(e.errors.map((x) => `${x.instancePath || "<root>"}: ${x.message}${x.params?.allowedValues ? " " + JSON.stringify(x.params.allowedValues) : ""}`));
  }
}
console.log(JSON.stringify(results));
