import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse, parseAllDocuments } from 'yaml';
import { CONFIG_VARIABLES, loadConfig } from '../../shared/config';
import { QUEUE_NAME } from '../../shared/queue/queue';
import { localBinaryPaths } from '../../infra/local/versions';

/**
 * The Helm chart (infra/helm/solidarity-clips): `helm lint`, `helm template` with the default values and with
 * values-production.yaml, every rendered object decoded strictly into its Kubernetes API type by the validator
 * (infra/helm/validate: unknown fields fail, no cluster), and the chart's promises read from the rendered objects.
 * helm and the validator are built from their Go modules into the local cache by infra/local/install.sh.
 */
const ROOT = join(__dirname, '..', '..');
const CHART = join(ROOT, 'infra/helm/solidarity-clips');
const PRODUCTION = join(CHART, 'values-production.yaml');

interface Container {
  name: string;
  command?: string[];
  env?: Array<{ name: string; value?: string; valueFrom?: { secretKeyRef?: { name: string; key: string } } }>;
  envFrom?: Array<{ configMapRef?: { name: string } }>;
  securityContext?: { runAsNonRoot?: boolean; readOnlyRootFilesystem?: boolean; allowPrivilegeEscalation?: boolean; capabilities?: { drop?: string[]; add?: string[] } };
  volumeMounts?: Array<{ name: string; mountPath: string }>;
  readinessProbe?: { httpGet?: { path: string } };
  livenessProbe?: { httpGet?: { path: string } };
  startupProbe?: { httpGet?: { path: string } };
}
interface PodSpec {
  automountServiceAccountToken?: boolean;
  terminationGracePeriodSeconds?: number;
  securityContext?: { runAsNonRoot?: boolean; runAsUser?: number; seccompProfile?: { type: string } };
  containers: Container[];
  initContainers?: Container[];
  volumes?: Array<{ name: string; emptyDir?: { sizeLimit?: string }; secret?: { secretName: string } }>;
}
interface Peer { ipBlock?: { cidr: string; except?: string[] }; namespaceSelector?: unknown; podSelector?: unknown }
interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  data?: Record<string, string>;
  stringData?: Record<string, string>;
  spec?: {
    replicas?: number;
    selector?: { matchLabels?: Record<string, string> };
    template?: { metadata: { labels: Record<string, string> }; spec: PodSpec };
    podSelector?: { matchLabels?: Record<string, string> };
    policyTypes?: string[];
    egress?: Array<{ to?: Peer[]; ports?: Array<{ port: number | string }> }>;
    ingress?: Array<{ from?: Peer[] }>;
    scaleTargetRef?: { name: string };
    minReplicaCount?: number;
    maxReplicaCount?: number;
    cooldownPeriod?: number;
    triggers?: Array<{ type: string; name?: string; metadata: Record<string, string>; authenticationRef?: { name: string } }>;
    secretTargetRef?: Array<{ parameter: string; name: string; key: string }>;
    endpoints?: Array<{ port: string; path: string; authorization?: { credentials?: { name: string; key: string } } }>;
    maxUnavailable?: number | string;
  };
}

async function tool(path: string, args: string[], input?: string): Promise<{ code: number; out: string }> {
  return new Promise((resolve, reject) => {
    const child = execFile(path, args, { cwd: ROOT, maxBuffer: 32 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (error && (error as NodeJS.ErrnoException).code === 'ENOENT') {
        reject(new Error(`${path} is missing: \`npm run setup\` builds it (infra/local/install.sh)`));
        return;
      }
      resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, out: stdout + stderr });
    });
    child.stdin?.end(input ?? '');
  });
}
const helm = (...args: string[]) => tool(localBinaryPaths().helm, args);
const validate = (manifests: string) => tool(localBinaryPaths().chartValidator, [], manifests);

async function render(...values: string[]): Promise<string> {
  const { code, out } = await helm('template', 'clips', CHART, '--namespace', 'clips', ...values.flatMap((file) => ['-f', file]));
  if (code !== 0) throw new Error(`helm template failed:\n${out}`);
  return out;
}
function objects(manifests: string): K8sObject[] {
  return parseAllDocuments(manifests).map((doc) => doc.toJS() as K8sObject | null).filter((o): o is K8sObject => o !== null);
}
const one = (all: K8sObject[], kind: string, name: string) => {
  const found = all.find((o) => o.kind === kind && o.metadata.name === name);
  if (!found) throw new Error(`no ${kind} ${name} in: ${all.map((o) => `${o.kind}/${o.metadata.name}`).join(', ')}`);
  return found;
};
const deployments = (all: K8sObject[]) => all.filter((o) => o.kind === 'Deployment');
const pod = (deployment: K8sObject) => deployment.spec!.template!.spec;
const envOf = (container: Container, name: string) => container.env?.find((e) => e.name === name);
const selects = (selector: Record<string, string> | undefined, labels: Record<string, string>) =>
  selector !== undefined && Object.entries(selector).every(([key, value]) => labels[key] === value);

/** Private, shared, loopback and link-local ranges: a peer within them is not the internet. */
const PRIVATE = ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', '100.64.0.0/10', '127.0.0.0/8', '169.254.0.0/16'];
function ipv4(address: string): number {
  return address.split('.').reduce((n, octet) => n * 256 + Number(octet), 0);
}
function within(cidr: string, range: string): boolean {
  if (cidr.includes(':')) return /^f[cd]/i.test(cidr) || cidr.startsWith('fe80') || cidr === '::1/128';
  const [a, bits] = cidr.split('/');
  const [r, rbits] = range.split('/');
  if (Number(bits) < Number(rbits)) return false;
  const mask = rbits === '0' ? 0 : (0xffffffff << (32 - Number(rbits))) >>> 0;
  return ((ipv4(a!) & mask) >>> 0) === ((ipv4(r!) & mask) >>> 0);
}
/** Whether an egress rule lets a pod reach some address on the internet. */
function reachesInternet(rule: { to?: Peer[] }): boolean {
  if (!rule.to || rule.to.length === 0) return true; // no `to`: every destination
  return rule.to.some((peer) => peer.ipBlock !== undefined && !PRIVATE.some((range) => within(peer.ipBlock!.cidr, range)));
}

const SECRET_VARIABLES = ['MONGO_URL', 'REDIS_URL', 'S3_ACCESS_KEY_ID', 'S3_SECRET_ACCESS_KEY', 'AUDIT_HMAC_KEY', 'TOTP_ENCRYPTION_KEY', 'METRICS_BEARER_TOKEN'];

describe('the Helm chart', () => {
  const renders: Record<'default' | 'production', { text: string; all: K8sObject[] }> = {} as never;

  beforeAll(async () => {
    for (const [name, files] of [['default', []], ['production', [PRODUCTION]]] as const) {
      const text = await render(...files);
      renders[name] = { text, all: objects(text) };
    }
  }, 60_000);

  test('when helm lints it (strict), with the default and the production values, then it passes', async () => {
    for (const files of [[], ['-f', PRODUCTION]]) {
      const { code, out } = await helm('lint', CHART, '--strict', ...files);
      expect([code, out]).toEqual([0, expect.stringContaining('0 chart(s) failed')]);
    }
  });

  test.each(['default', 'production'] as const)('when the %s render is decoded strictly into the Kubernetes API types, then every object is valid', async (name) => {
    const { code, out } = await validate(renders[name].text);
    expect([code, out]).toEqual([0, expect.stringContaining(`${renders[name].all.length} objects valid, 0 failed`)]);
  });

  test('when the optional parts are switched (fixed workers, no policies, no monitor, no ingress, a development Secret), then the render is still valid', async () => {
    const sets = ['worker.autoscaling.enabled=false', 'worker.replicas=3', 'networkPolicy.enabled=false', 'serviceMonitor.enabled=false', 'ingress.enabled=false', 'secrets.create=true', 'secrets.values.MONGO_URL=mongodb://mongo:27017/clips'];
    const { code, out: text } = await helm('template', 'clips', CHART, ...sets.flatMap((set) => ['--set', set]));
    expect([code, text]).toEqual([0, expect.any(String)]);
    const all = objects(text);
    expect(all.map((o) => o.kind)).not.toEqual(expect.arrayContaining(['ScaledObject']));
    expect(one(all, 'Deployment', 'clips-solidarity-clips-worker').spec!.replicas).toBe(3);
    expect(one(all, 'Secret', 'clips-solidarity-clips-secrets').stringData).toEqual({ MONGO_URL: 'mongodb://mongo:27017/clips' });
    const { code: valid, out } = await validate(text);
    expect([valid, out]).toEqual([0, expect.stringContaining(`${all.length} objects valid, 0 failed`)]);
  });

  test('when an object has an unknown field, a bad quantity or an unknown kind, then the validator fails it', async () => {
    const text = renders.default.text;
    for (const broken of [
      text.replace('terminationGracePeriodSeconds:', 'terminationGracePeriod:'),
      text.replace('cooldownPeriod:', 'coolDownPeriod:'),
      text.replace(/sizeLimit: \d+Gi/, 'sizeLimit: 20 gigabytes'),
      text.replace('kind: ServiceMonitor', 'kind: PodMonitorTypo'),
      `${text}\n---\napiVersion: v1\nkind: Service\nmetadata: { name: x }\nspec: { selector: {}, ports: [{ port: 80, targetport: 80 }] }\n`,
    ]) {
      expect(broken).not.toBe(text);
      const { code, out } = await validate(broken);
      expect([code, out]).toEqual([1, expect.stringMatching(/^FAIL /m)]);
    }
  });

  test.each(['default', 'production'] as const)('when rendered with the %s values, then every pod runs non-root on a read-only root filesystem with no capabilities and no API token', (name) => {
    const all = deployments(renders[name].all);
    expect(all.map((d) => d.metadata.name).sort()).toEqual(['clips-solidarity-clips-server', 'clips-solidarity-clips-webhooks', 'clips-solidarity-clips-worker']);
    for (const deployment of all) {
      const spec = pod(deployment);
      expect([deployment.metadata.name, spec.automountServiceAccountToken, spec.securityContext?.runAsNonRoot, spec.securityContext?.seccompProfile?.type]).toEqual([deployment.metadata.name, false, true, 'RuntimeDefault']);
      expect(spec.securityContext?.runAsUser).toBeGreaterThan(0);
      for (const container of [...spec.containers, ...(spec.initContainers ?? [])]) {
        expect([container.name, container.securityContext]).toEqual([
          container.name,
          expect.objectContaining({ runAsNonRoot: true, readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } }),
        ]);
        // Every path the process writes is a volume: the job folder, /tmp.
        for (const path of ['/tmp']) expect(container.volumeMounts?.some((m) => m.mountPath === path)).toBe(true);
      }
    }
  });

  test('when a worker runs, then its job folder (WORK_DIR) is an emptyDir with a size limit', () => {
    for (const name of ['clips-solidarity-clips-worker', 'clips-solidarity-clips-webhooks']) {
      const spec = pod(one(renders.default.all, 'Deployment', name));
      const container = spec.containers[0]!;
      const workDir = envOf(container, 'WORK_DIR')?.value;
      const mount = container.volumeMounts?.find((m) => m.mountPath === workDir);
      const volume = spec.volumes?.find((v) => v.name === mount?.name);
      expect([name, volume?.emptyDir?.sizeLimit]).toEqual([name, expect.stringMatching(/^\d+[GM]i$/)]);
    }
  });

  test.each(['default', 'production'] as const)('when a worker is stopped (%s values), then its grace period covers the lease it holds, and the server\'s covers its drain and grace', (name) => {
    const all = renders[name].all;
    const config = one(all, 'ConfigMap', 'clips-solidarity-clips').data!;
    const lease = loadConfig({ QUEUE_LOCK_SECONDS: config.QUEUE_LOCK_SECONDS }).redis.lockSeconds;
    for (const worker of ['clips-solidarity-clips-worker', 'clips-solidarity-clips-webhooks']) {
      const spec = pod(one(all, 'Deployment', worker));
      expect(spec.containers[0]!.command).toEqual(['node', 'dist/worker/main.js']);
      expect(spec.terminationGracePeriodSeconds).toBeGreaterThan(lease);
    }
    const http = loadConfig({ SHUTDOWN_DRAIN_SECONDS: config.SHUTDOWN_DRAIN_SECONDS, SHUTDOWN_GRACE_SECONDS: config.SHUTDOWN_GRACE_SECONDS }).http;
    const server = pod(one(all, 'Deployment', 'clips-solidarity-clips-server'));
    expect(server.terminationGracePeriodSeconds).toBeGreaterThan(http.drainSeconds + http.graceSeconds);
  });

  test('when the server runs, then it is probed on /healthz (alive) and /readyz (ready)', () => {
    const container = pod(one(renders.default.all, 'Deployment', 'clips-solidarity-clips-server')).containers[0]!;
    expect(container.livenessProbe?.httpGet?.path).toBe('/healthz');
    expect(container.startupProbe?.httpGet?.path).toBe('/healthz');
    expect(container.readinessProbe?.httpGet?.path).toBe('/readyz');
  });

  test.each(['default', 'production'] as const)('when KEDA scales the media workers (%s values), then from 0 on the bull wait list, with a cooldown longer than a release render', (name) => {
    const all = renders[name].all;
    const config = one(all, 'ConfigMap', 'clips-solidarity-clips').data!;
    const scaled = one(all, 'ScaledObject', 'clips-solidarity-clips-worker').spec!;
    expect(scaled.scaleTargetRef?.name).toBe('clips-solidarity-clips-worker');
    // KEDA owns the replica count.
    expect(one(all, 'Deployment', 'clips-solidarity-clips-worker').spec!.replicas).toBeUndefined();
    expect(scaled.minReplicaCount).toBe(0);
    // A release render: one ffmpeg run is bounded by FFMPEG_TIMEOUT_SECONDS (30 min by default).
    expect(scaled.cooldownPeriod).toBeGreaterThan(loadConfig({}).worker.timeoutSeconds);
    const redis = scaled.triggers!.filter((t) => t.type === 'redis');
    const waiting = redis.find((t) => t.metadata.listName === `${config.QUEUE_PREFIX}:${QUEUE_NAME}:wait`);
    // One waiting clip with no worker starts one.
    expect(waiting?.metadata).toMatchObject({ listLength: expect.stringMatching(/^[1-9]\d*$/), activationListLength: '0' });
    expect(redis.map((t) => t.metadata.listName)).toContain(`${config.QUEUE_PREFIX}:${QUEUE_NAME}:active`);
    // Delayed jobs (a release's hold) move to the wait list only while a worker runs: a trigger starts one.
    expect(scaled.triggers!.find((t) => t.name === 'delayed')?.metadata.query).toContain('state="delayed"');
    // Redis's password from a Secret, through a TriggerAuthentication.
    for (const trigger of redis) {
      const auth = one(all, 'TriggerAuthentication', trigger.authenticationRef!.name).spec!;
      expect(auth.secretTargetRef).toEqual([expect.objectContaining({ parameter: 'password' })]);
      expect(trigger.metadata.password).toBeUndefined();
    }
  });

  test('when minReplicas is 0 without a trigger for delayed jobs, or the cooldown is shorter than a render, then the chart refuses to render', async () => {
    for (const set of ['worker.autoscaling.prometheusAddress=', 'worker.autoscaling.cooldownSeconds=600']) {
      const { code, out } = await helm('template', 'clips', CHART, '--set', set);
      expect([set, code, out]).toEqual([set, 1, expect.stringContaining('worker.autoscaling')]);
    }
  });

  test.each(['default', 'production'] as const)('when the network policies apply (%s values), then only the webhook sender may reach the internet, and never private or metadata addresses', (name) => {
    const all = renders[name].all;
    const policies = all.filter((o) => o.kind === 'NetworkPolicy');
    const labelsOf = (component: string) => one(all, 'Deployment', `clips-solidarity-clips-${component}`).spec!.template!.metadata.labels;
    for (const component of ['server', 'worker', 'webhooks']) {
      const mine = policies.filter((p) => selects(p.spec!.podSelector?.matchLabels, labelsOf(component)));
      // Denied by default (both directions), then allowed by the component's own policy.
      expect(mine.some((p) => p.spec!.policyTypes?.includes('Egress') && p.spec!.egress === undefined && p.spec!.policyTypes?.includes('Ingress'))).toBe(true);
      const internet = mine.flatMap((p) => p.spec!.egress ?? []).filter(reachesInternet);
      expect([component, internet.length > 0]).toEqual([component, component === 'webhooks']);
      for (const rule of internet) {
        for (const peer of rule.to!) {
          if (peer.ipBlock?.cidr === '0.0.0.0/0') expect(peer.ipBlock.except).toEqual(expect.arrayContaining(PRIVATE));
        }
        expect(rule.ports?.map((p) => p.port)).toEqual([443]);
      }
    }
    // The workers listen on nothing.
    for (const component of ['worker', 'webhooks']) {
      expect(policies.filter((p) => selects(p.spec!.podSelector?.matchLabels, labelsOf(component))).flatMap((p) => p.spec!.ingress ?? [])).toEqual([]);
    }
  });

  test('when the workers start, then the media workers leave the webhooks to their own small Deployment', () => {
    const jobs = (component: string) => envOf(pod(one(renders.default.all, 'Deployment', `clips-solidarity-clips-${component}`)).containers[0]!, 'WORKER_JOBS')?.value;
    expect(jobs('worker')).toBe('all-but-webhooks');
    expect(jobs('webhooks')).toBe('deliver-webhook');
  });

  test.each(['default', 'production'] as const)('when releases are signed (%s values), then only the media workers hold the C2PA signing key; the server has the public root alone, the webhook sender nothing', (name) => {
    const all = renders[name].all;
    const signing = (component: string) => {
      const spec = pod(one(all, 'Deployment', `clips-solidarity-clips-${component}`));
      const volume = spec.volumes?.find((v) => v.name === 'signing');
      const env = Object.fromEntries((spec.containers[0]!.env ?? []).filter((e) => e.name.startsWith('C2PA_')).map((e) => [e.name, e.value]));
      const items = (volume?.secret as { items?: { path: string }[] } | undefined)?.items ?? [];
      return { items: items.map((i) => i.path).sort(), env: Object.keys(env).sort(), mounted: spec.containers[0]!.volumeMounts?.some((m) => m.name === 'signing') ?? false };
    };
    expect(signing('worker')).toEqual({ items: ['root-cert.pem', 'signing-chain.pem', 'signing-key.pem'], env: ['C2PA_SIGNING_CHAIN_FILE', 'C2PA_SIGNING_KEY_FILE', 'C2PA_TRUST_ANCHOR_FILE'], mounted: true });
    expect(signing('server')).toEqual({ items: ['root-cert.pem'], env: ['C2PA_TRUST_ANCHOR_FILE'], mounted: true });
    expect(signing('webhooks')).toEqual({ items: [], env: [], mounted: false });
  });

  test.each(['default', 'production'] as const)('when the pods read their configuration (%s values), then it names only real variables, loads in production, and every secret comes from a Secret', (name) => {
    const all = renders[name].all;
    // Secrets are never written by the chart unless asked (secrets.create, development).
    expect(all.filter((o) => o.kind === 'Secret')).toEqual([]);
    const config = one(all, 'ConfigMap', 'clips-solidarity-clips').data!;
    for (const key of Object.keys(config)) expect(CONFIG_VARIABLES).toContain(key);
    for (const key of SECRET_VARIABLES) expect(Object.keys(config)).not.toContain(key);
    for (const deployment of deployments(all)) {
      const container = pod(deployment).containers[0]!;
      const env: Record<string, string> = { ...config };
      for (const entry of container.env ?? []) {
        expect([entry.name, SECRET_VARIABLES.includes(entry.name) && entry.value !== undefined]).toEqual([entry.name, false]);
        // A misspelt variable would be ignored by the app: each is one of the README's (XDG_CACHE_HOME is for libraries).
        if (entry.name !== 'XDG_CACHE_HOME') expect(CONFIG_VARIABLES).toContain(entry.name);
        if (entry.value !== undefined) env[entry.name] = entry.value;
      }
      // The keys files are mounted from a Secret.
      const keys = pod(deployment).volumes?.find((v) => v.name === 'keys');
      expect(keys?.secret?.secretName).toEqual(expect.any(String));
      // With stand-ins for what the Secrets hold, the rendered configuration is one production accepts.
      delete env.AUDIT_HMAC_KEY_FILE;
      delete env.TOTP_ENCRYPTION_KEY_FILE;
      const standIns = { MONGO_URL: 'mongodb://db.example:27017/x', REDIS_URL: 'redis://redis.example:6379', S3_ACCESS_KEY_ID: 'AKIAREAL', S3_SECRET_ACCESS_KEY: 'a-real-secret', AUDIT_HMAC_KEY: 'k'.repeat(32), TOTP_ENCRYPTION_KEY: 'ab'.repeat(32) };
      expect(() => loadConfig({ ...env, ...standIns })).not.toThrow();
    }
  });

  test('when the values file is read, then it holds no secret value', () => {
    const values = parse(readFileSync(join(CHART, 'values.yaml'), 'utf8')) as { secrets: { create: boolean; values: Record<string, string> } };
    expect(values.secrets.create).toBe(false);
    expect(values.secrets.values).toEqual({});
  });

  test('when uploads come through the ingress, then the body limit matches the upload cap and nothing is buffered', () => {
    const all = renders.default.all;
    const config = one(all, 'ConfigMap', 'clips-solidarity-clips').data!;
    const annotations = one(all, 'Ingress', 'clips-solidarity-clips').metadata.annotations!;
    const limit = /^(\d+)m$/.exec(annotations['nginx.ingress.kubernetes.io/proxy-body-size'] ?? '');
    const cap = loadConfig({ UPLOAD_MAX_BYTES: config.UPLOAD_MAX_BYTES }).upload.maxBytes;
    expect(Number(limit?.[1]) * 1024 * 1024).toBeGreaterThan(cap);
    expect(Number(limit?.[1]) * 1024 * 1024).toBeLessThan(cap + 16 * 1024 * 1024);
    expect(annotations['nginx.ingress.kubernetes.io/proxy-request-buffering']).toBe('off');
    // A tus PATCH streams for as long as the client sends: only the time between two reads or writes is bounded.
    const idle = loadConfig({}).upload.idleSeconds;
    for (const timeout of ['proxy-read-timeout', 'proxy-send-timeout']) expect(Number(annotations[`nginx.ingress.kubernetes.io/${timeout}`])).toBeGreaterThanOrEqual(10 * idle);
  });

  test('when Prometheus scrapes, then the ServiceMonitor reads the server\'s /metrics with the bearer token from a Secret', () => {
    const all = renders.default.all;
    const monitor = one(all, 'ServiceMonitor', 'clips-solidarity-clips').spec!;
    const service = one(all, 'Service', 'clips-solidarity-clips-server');
    expect(selects(monitor.selector?.matchLabels, service.metadata.labels!)).toBe(true);
    expect(monitor.endpoints).toEqual([expect.objectContaining({ port: 'http', path: '/metrics', authorization: expect.objectContaining({ credentials: expect.objectContaining({ key: 'METRICS_BEARER_TOKEN' }) }) })]);
  });

  test('when a node is drained, then every Deployment has a disruption budget that never blocks it', () => {
    const all = renders.default.all;
    for (const deployment of deployments(all)) {
      const budgets = all.filter((o) => o.kind === 'PodDisruptionBudget' && selects(o.spec!.selector?.matchLabels, deployment.spec!.template!.metadata.labels));
      expect([deployment.metadata.name, budgets.map((b) => b.spec!.maxUnavailable)]).toEqual([deployment.metadata.name, [1]]);
    }
  });
});
