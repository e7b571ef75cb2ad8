// Offline checks of the Kubernetes manifests: `kubectl kustomize DIR` (k8s/ or k8s/overlays/gateway) must render, every rendered object must pass
// the schema of its apiVersion/kind (kubernetes-models, the Kubernetes OpenAPI schemas), and the deployment must keep
// the properties docs/operations.md promises. Exit code 0 when all pass. Usage: node validate.mjs [KUSTOMIZE_DIR]
import { execFileSync } from "node:child_process";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseAllDocuments } from "yaml";

const here = dirname(fileURLToPath(import.meta.url));
const dir = resolve(process.argv[2] ?? resolve(here, ".."));
const failures = [];
const fail = (message) => failures.push(message);

// core/v1 lives at "kubernetes-models/v1/Kind", every other group at "kubernetes-models/<group>/<version>/Kind".
async function modelFor(apiVersion, kind) {
  try {
    return (await import(`kubernetes-models/${apiVersion}/${kind}`))[kind];
  } catch {
    return undefined;
  }
}

async function validateObject(object) {
  const name = `${object?.kind}/${object?.metadata?.name}`;
  const Model = await modelFor(object?.apiVersion ?? "", object?.kind ?? "");
  if (!Model) return `${name}: no schema for ${object?.apiVersion} ${object?.kind}`;
  try {
    new Model(object).validate();
    return null;
  } catch (error) {
    return `${name}: ${error.message}`;
  }
}

// The validator must be able to fail: a Deployment with a string for replicas is rejected.
const broken = await validateObject({ apiVersion: "apps/v1", kind: "Deployment", metadata: { name: "broken" },
  spec: { replicas: "three", selector: { matchLabels: { a: "b" } }, template: { metadata: { labels: { a: "b" } }, spec: { containers: [] } } } });
if (broken === null) fail("self-check: a broken Deployment passed schema validation");

let rendered;
try {
  rendered = execFileSync("kubectl", ["kustomize", dir], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
} catch (error) {
  console.error(`kubectl kustomize ${dir} failed: ${error.stderr ?? error.message}`);
  process.exit(1);
}

const objects = [];
for (const document of parseAllDocuments(rendered)) {
  if (document.errors.length > 0) fail(`YAML: ${document.errors.map((e) => e.message).join("; ")}`);
  const object = document.toJS();
  if (object) objects.push(object);
}
for (const object of objects) {
  const problem = await validateObject(object);
  if (problem) fail(problem);
}

// What the deployment must have (docs/operations.md, "Deploy to Kubernetes"). Two topologies: co-hosted (k8s/, every
// silo serves gRPC through Service scheduler-grpc) and gateway (k8s/overlays/gateway: Deployment scheduler-gateway
// serves gRPC, silos serve none).
const find = (kind, name) => objects.find((o) => o.kind === kind && (!name || o.metadata?.name === name));
const gateway = find("Deployment", "scheduler-gateway");
const required = [["Namespace"], ["ServiceAccount", "scheduler"], ["Role"], ["RoleBinding"], ["ConfigMap", "scheduler-config"],
  ["Deployment", "scheduler"], ["StatefulSet", "redis"], ["Service", "scheduler-http"], ["Service", "redis"],
  ["PodDisruptionBudget", "scheduler"]];
if (gateway) required.push(["Service", "scheduler-gateway"], ["HorizontalPodAutoscaler", "scheduler-gateway"], ["PodDisruptionBudget", "scheduler-gateway"]);
else required.push(["Service", "scheduler-grpc"]);
for (const [kind, name] of required) {
  if (!find(kind, name)) fail(`missing ${kind}${name ? "/" + name : ""}`);
}
// Every Service selects the pods of some workload, on ports those pods name.
const workloads = objects.filter((o) => ["Deployment", "StatefulSet"].includes(o.kind));
for (const service of objects.filter((o) => o.kind === "Service")) {
  const selector = Object.entries(service.spec?.selector ?? {});
  const targets = workloads.filter((w) => selector.length > 0 && selector.every(([k, v]) => w.spec?.template?.metadata?.labels?.[k] === v));
  if (targets.length === 0) { fail(`Service/${service.metadata?.name}: selects no workload's pods`); continue; }
  const named = new Set(targets.flatMap((w) => (w.spec.template.spec?.containers ?? []).flatMap((c) => (c.ports ?? []).flatMap((p) => [p.name, p.containerPort]))));
  for (const port of service.spec?.ports ?? [])
    if (!named.has(port.targetPort ?? port.port)) fail(`Service/${service.metadata?.name}: port ${port.name} targets ${port.targetPort}, which its pods do not expose`);
}
const role = find("Role");
if (role && !role.rules?.some((r) => r.resources?.includes("pods") && ["get", "list", "watch", "delete"].every((v) => r.verbs?.includes(v))))
  fail("Role: Orleans' Kubernetes hosting needs get, list, watch and delete on pods");
const deployment = find("Deployment", "scheduler");
const pod = deployment?.spec?.template;
if (pod) {
  for (const label of ["orleans/serviceId", "orleans/clusterId"]) if (!pod.metadata?.labels?.[label]) fail(`Deployment: pod label ${label} missing`);
  if (pod.spec?.serviceAccountName !== "scheduler") fail("Deployment: must run as the scheduler ServiceAccount");
  for (const container of pod.spec?.containers ?? []) {
    const env = new Set((container.env ?? []).map((e) => e.name));
    for (const variable of ["POD_NAME", "POD_NAMESPACE", "POD_IP", "ORLEANS_SERVICE_ID", "ORLEANS_CLUSTER_ID"])
      if (!env.has(variable)) fail(`Deployment: ${container.name} lacks ${variable}`);
    for (const probe of ["readinessProbe", "livenessProbe"])
      if (container[probe]?.httpGet?.path !== "/healthz") fail(`Deployment: ${container.name} ${probe} must GET /healthz`);
    if (!container.resources?.requests || !container.resources?.limits) fail(`Deployment: ${container.name} needs resource requests and limits`);
  }
}
const config = find("ConfigMap", "scheduler-config")?.data ?? {};
if (config.Cluster__Mode !== "Redis" || config.Cluster__Kubernetes !== "true") fail("ConfigMap: Cluster__Mode=Redis and Cluster__Kubernetes=true expected");
if (!config.OTEL_EXPORTER_OTLP_ENDPOINT) fail("ConfigMap: OTEL_EXPORTER_OTLP_ENDPOINT expected");
if (gateway) {
  const gatewayPod = gateway.spec?.template;
  const siloLabels = pod?.metadata?.labels ?? {};
  for (const label of Object.keys(gatewayPod?.metadata?.labels ?? {}))
    if (label.startsWith("orleans/")) fail(`Deployment/scheduler-gateway: pod label ${label} is for silos (Orleans' Kubernetes hosting), not gateways`);
  for (const container of gatewayPod?.spec?.containers ?? []) {
    const env = Object.fromEntries((container.env ?? []).map((e) => [e.name, e]));
    if (container.readinessProbe?.httpGet?.path !== "/readyz") fail(`Deployment/scheduler-gateway: ${container.name} readinessProbe must GET /readyz (connected to the cluster)`);
    if (container.livenessProbe?.httpGet?.path !== "/healthz") fail(`Deployment/scheduler-gateway: ${container.name} livenessProbe must GET /healthz (not tied to the cluster)`);
    if (!container.resources?.requests?.cpu) fail(`Deployment/scheduler-gateway: ${container.name} needs a CPU request (the autoscaler measures against it)`);
    if (env.Cluster__ServiceId?.value !== siloLabels["orleans/serviceId"] || env.Cluster__ClusterId?.value !== siloLabels["orleans/clusterId"])
      fail("Deployment/scheduler-gateway: Cluster__ServiceId and Cluster__ClusterId must equal the silos' orleans/serviceId and orleans/clusterId labels");
    if (!env.Scheduler__Auth__SigningKeys__0__Key?.valueFrom?.secretKeyRef) fail("Deployment/scheduler-gateway: the signing key must come from a Secret (the silos' key)");
    if (!(container.envFrom ?? []).some((e) => e.configMapRef?.name === "scheduler-config")) fail("Deployment/scheduler-gateway: must read the silos' ConfigMap (Redis, auth mode, OTLP)");
  }
  const hpa = find("HorizontalPodAutoscaler", "scheduler-gateway");
  if (hpa) {
    if (hpa.spec?.scaleTargetRef?.kind !== "Deployment" || hpa.spec?.scaleTargetRef?.name !== "scheduler-gateway") fail("HorizontalPodAutoscaler: must scale Deployment/scheduler-gateway");
    if (!(hpa.spec?.minReplicas >= 2)) fail("HorizontalPodAutoscaler: minReplicas must be at least 2");
    if (!hpa.spec?.metrics?.some((m) => m.type === "Resource" && m.resource?.name === "cpu")) fail("HorizontalPodAutoscaler: must scale on CPU");
  }
  if (config.Scheduler__Host__ServeGrpc !== "false") fail("ConfigMap: silos behind gateways need Scheduler__Host__ServeGrpc=false");
  if (pod?.spec?.containers?.some((c) => (c.ports ?? []).some((p) => p.containerPort === 5000))) fail("Deployment/scheduler: silos behind gateways expose no gRPC port");
  if (find("Service", "scheduler-grpc")) fail("Service/scheduler-grpc: silos behind gateways serve no gRPC; clients use Service/scheduler-gateway");
}
const redis = find("StatefulSet", "redis");
if (redis && !(redis.spec?.volumeClaimTemplates?.length > 0)) fail("StatefulSet/redis: needs a persistent volume claim");
if (redis && !redis.spec?.template?.spec?.containers?.[0]?.args?.join(" ").includes("--appendonly yes")) fail("StatefulSet/redis: AOF must be on");

if (failures.length > 0) {
  for (const failure of failures) console.error(`FAIL ${failure}`);
  console.error(`${dir}: ${objects.length} objects, ${failures.length} problems`);
  process.exit(1);
}
console.log(`${dir}: kubectl kustomize rendered ${objects.length} objects; all pass schema validation (kubernetes-models) and the deployment checks`);
